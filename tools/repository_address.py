"""The repository's address lives in one place, ``_config.yml`` (``repository.url``).

    python tools/repository_address.py           # check: exit 1 listing every stale copy
    python tools/repository_address.py --write   # write the address into every copy

The copies a reader meets are written from it: the install cell of every chapter (Colab
and Binder install the package from the repository), the README's Binder and Colab links
and the project URL in ``pyproject.toml``. Move the repository, edit ``_config.yml``, run
``--write``; ``tests/test_publishing.py`` runs the check.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "_config.yml"
# what each copy looks like, with the owner/name pair as group "address"
PATTERNS = {
    "book/*.ipynb": re.compile(r'(repo = \\")(?P<address>[\w.-]+/[\w.-]+)(\\")'),
    "README.md": re.compile(r"((?:mybinder\.org/v2/gh|colab\.research\.google\.com/github)/)"
                            r"(?P<address>[\w.-]+/[\w.-]+)(/)"),
    "pyproject.toml": re.compile(r'(Homepage = "https://github\.com/)(?P<address>[\w.-]+/[\w.-]+)(")'),
}


def configured_address() -> str:
    """owner/name of ``repository.url`` in _config.yml."""
    match = re.search(r"^repository:\s*\n\s+url:\s*https://github\.com/([\w.-]+/[\w.-]+?)/?\s*$",
                      CONFIG.read_text(), flags=re.MULTILINE)
    if match is None:
        raise SystemExit(f"{CONFIG}: no repository.url of the form https://github.com/OWNER/NAME")
    return match.group(1)


def copies() -> list[tuple[Path, re.Pattern]]:
    """Every file that holds a copy, with the pattern of its copies."""
    return [(path, pattern) for glob, pattern in PATTERNS.items() for path in sorted(ROOT.glob(glob))]


def stale(address: str) -> list[str]:
    """'file: found' for every copy that differs from ``address``, and every file expected to
    hold one that holds none (a chapter whose install cell lost its address)."""
    out = []
    for path, pattern in copies():
        found = [m.group("address") for m in pattern.finditer(path.read_text())]
        if not found:
            out.append(f"{path.relative_to(ROOT)}: no copy of the address")
        out += [f"{path.relative_to(ROOT)}: {value}" for value in found if value != address]
    return out


def write(address: str) -> list[Path]:
    """Rewrite every copy to ``address``; the files that changed."""
    changed = []
    for path, pattern in copies():
        text = path.read_text()
        new = pattern.sub(lambda m: m.group(1) + address + m.group(3), text)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the configured address into every copy")
    args = parser.parse_args(argv)
    address = configured_address()
    if args.write:
        for path in write(address):
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    problems = stale(address)
    for line in problems:
        print(f"stale: {line} (configured: {address})", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
