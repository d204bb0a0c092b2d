"""Checked-in pages with a generated part: splice it between two markers, or say it is stale.

``scripts/config_doc.py`` and ``scripts/architecture_doc.py`` share this: each names its page,
its markers and the function that renders the part; ``--check`` exits 1 when the page is stale.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def splice(page: str, start: str, end: str, body: str) -> str:
    """``page`` with ``body`` between the ``start`` and ``end`` marker lines."""
    head, rest = page.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}{end}{tail}"


def run(
    argv: list[str] | None,
    *,
    page: Path,
    root: Path,
    rendered: Callable[[str], str],
    about: str,
    script: str,
) -> int:
    """Rewrite ``page`` with its generated part, or with ``--check`` report whether it is stale."""
    parser = argparse.ArgumentParser(description=about)
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    text = page.read_text(encoding="utf-8")
    new = rendered(text)
    if args.check:
        if new != text:
            print(f"{page.relative_to(root)} is stale: run python {script}")
            return 1
        return 0
    page.write_text(new, encoding="utf-8")
    return 0
