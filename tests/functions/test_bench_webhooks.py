"""The load benchmark still runs and still judges exactly-once (a small count, as a program).

``bench/bench_webhooks.py`` is run in a subprocess (it sets ``AWS_*`` variables and starts its
own moto server on loopback) with a few dozen webhooks; the test asserts on what it prints and
its exit code, never on time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_webhooks.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        check=False,
    )


def _table(stdout: str) -> dict[str, str]:
    rows = [line.strip("| ").split(" | ") for line in stdout.splitlines() if line.startswith("|")]
    return {row[0].strip(): row[1].strip() for row in rows[2:] if len(row) == 2}


def test_small_run_is_exactly_once_and_accounts_every_item() -> None:
    result = _run("--count", "80", "--threads", "4", "--max-seconds", "240")
    table = _table(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert table["exactly once"] == "yes"
    assert table["other statuses"] == "none"
    assert table["deliveries answered other than 200/409"] == "0"
    accepted = int(table["accepted (200, new)"])
    repeats = int(table["duplicates (200, same body)"]) + int(table["conflicts (409, other body)"])
    assert accepted + repeats == 80
    assert repeats > 0  # the generator's 10 % repeats reached the handler
    assert int(table["queue messages"]) == accepted == int(table["items stored"])
    assert int(table["items booked by accounting"]) == accepted


def test_a_time_bound_too_short_is_not_judged_and_fails() -> None:
    result = _run("--count", "400", "--threads", "2", "--max-seconds", "0.5")
    table = _table(result.stdout)
    assert result.returncode == 1
    assert table["exactly once"].startswith("not judged")
