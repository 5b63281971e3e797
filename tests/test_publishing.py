"""The publishing workflow and Binder's pinned environment (static checks, no network)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as canonical

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "book.yml"
BINDER = REPO / "binder"


def readme_commands() -> set[str]:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return {line.split("#")[0].strip() for block in blocks for line in block.splitlines()} - {""}


def test_the_pages_workflow_builds_with_the_readme_command_and_deploys_the_html():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML reads `on:` as True
    assert triggers["push"]["branches"] == ["main"]
    build = workflow["jobs"]["build"]["steps"]
    runs = [step["run"] for step in build if "run" in step]
    assert runs and all(run.split()[:2] == ["make", "book"] for run in runs), runs
    assert "make book" in readme_commands()
    upload = next(step for step in build if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert any(step.get("uses", "").startswith("actions/deploy-pages") for step in deploy["steps"])
    assert workflow["permissions"]["pages"] == "write"


def pinned() -> dict[str, str]:
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-", ".")):
            req = Requirement(line)
            (spec,) = req.specifier  # exactly one, and it must be ==
            assert spec.operator == "==", line
            pins[canonical(req.name)] = spec.version
    return pins


def test_binder_pins_every_reader_requirement_exactly():
    pins = pinned()
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith((".", "-")):
            continue
        req = Requirement(line)
        name = canonical(req.name)
        assert name in pins, f"binder/requirements.txt does not pin {req.name}: run `make binder-pins`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"Binder's {req.name}=={pins[name]} is outside requirements.txt's {req.specifier}")


def test_binder_installs_the_package_itself_and_the_cpu_torch():
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert lines[-1] == ".", "the book's own package must be the last entry"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert pinned()["torch"].endswith("+cpu")
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime) and int(runtime.split(".")[1]) >= 10, runtime
