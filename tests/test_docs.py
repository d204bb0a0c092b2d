"""The documentation stays true: generated pages are current, links and named files exist."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")
#: A path in backticks that names a file or folder of this repository.
REPO_PATH = re.compile(
    r"`((?:governance|rules|stacks|reports|scripts|tests|bench|docs)/[A-Za-z0-9_./-]*)`"
)


def _architecture_doc():
    spec = importlib.util.spec_from_file_location(
        "architecture_doc", ROOT / "scripts" / "architecture_doc.py"
    )
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_architecture_index_is_current() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert _architecture_doc().rendered(page) == page, "run python scripts/architecture_doc.py"


def test_architecture_index_names_every_rule_module() -> None:
    from governance.registry import all_rules

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for r in all_rules():
        path = r.module.replace(".", "/") + ".py"
        assert (ROOT / path).is_file()
        row = next(line for line in page.splitlines() if line.startswith(f"| `{path}` |"))
        assert re.search(rf"\b{re.escape(r.id)}\b", row), r.id


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = [
        target
        for target, _ in LINK.findall(text)
        if "://" not in target and not (page.parent / target).exists()
    ]
    assert not broken, f"{page.name}: links to missing files: {broken}"


@pytest.mark.parametrize(
    "page", [ROOT / "README.md", ROOT / "docs" / "architecture.md"], ids=lambda p: p.name
)
def test_named_repository_paths_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    missing = []
    for path in REPO_PATH.findall(text):
        if "<" in path or "*" in path:  # a pattern such as stacks/<system>/settings.py
            continue
        if not (ROOT / path.rstrip("/")).exists():
            missing.append(path)
    assert not missing, f"{page.name}: names files that do not exist: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head
