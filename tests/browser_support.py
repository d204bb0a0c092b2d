"""Headless Debian Chromium for the report tests, driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright):  # noqa: ANN001, ANN201 - Playwright's own types
    """Start Debian's chromium; a missing browser fails the test (``make test`` installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's package")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
