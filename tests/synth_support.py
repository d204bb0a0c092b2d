"""Running the real CDK CLI from tests (imported by tests/conftest.py and synth tests)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CDK_ENV = {
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
}


def run_cdk_synth(
    app_dir: Path, out_dir: Path, context: dict[str, str] | None = None, app: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CDK CLI (``npx cdk synth``) and return the finished process."""
    # The CLI pinned in package.json (what `npx cdk` runs in this repository), usable from any dir.
    cmd = [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "-q", "-o", str(out_dir)]
    if app:
        cmd += ["--app", app]
    for key, value in (context or {}).items():
        cmd += ["-c", f"{key}={value}"]
    # An app outside the repository root must import this checkout's governance package, not
    # whichever one the virtual environment has installed.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, **CDK_ENV, "PYTHONPATH": path}
    return subprocess.run(
        cmd, cwd=app_dir, env=env, capture_output=True, text=True, timeout=600, check=False
    )
