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


def test_the_repository_address_is_written_from_one_place(tmp_path, monkeypatch):
    """Every copy of the address (the chapters' install cells, the README's Binder and Colab
    links, pyproject) agrees with _config.yml; a moved repository is caught, then rewritten."""
    import shutil
    import sys

    sys.path.insert(0, str(REPO / "tools"))
    try:
        import repository_address as tool
    finally:
        sys.path.pop(0)
    address = tool.configured_address()
    assert tool.stale(address) == []
    chapters = sorted((REPO / "book").glob("*.ipynb"))
    assert len(tool.copies()) == len(chapters) + 2

    # a copy of the repository's files, with the address moved in _config.yml
    for path in [tool.CONFIG, REPO / "README.md", REPO / "pyproject.toml", *chapters]:
        target = tmp_path / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    config = tmp_path / "_config.yml"
    config.write_text(config.read_text().replace(address, "someone-else/turing-book"))
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    monkeypatch.setattr(tool, "CONFIG", config)
    moved = tool.configured_address()
    assert moved == "someone-else/turing-book"
    assert len(tool.stale(moved)) >= len(chapters) + 2   # every copy is reported
    assert tool.main([]) == 1
    tool.write(moved)
    assert tool.stale(moved) == [] and tool.main([]) == 0
    assert "someone-else/turing-book" in (tmp_path / "book" / "intro.ipynb").read_text()
