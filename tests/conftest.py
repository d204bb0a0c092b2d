"""Shared fixtures: CDK environment variables and the platform synthesized once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

CDK_ENV = {
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
}
os.environ.update(CDK_ENV)
# Never reach a real AWS endpoint from tests: no credentials unless a test sets them.
for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(var, None)


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
    env = {**os.environ, **CDK_ENV}
    return subprocess.run(
        cmd, cwd=app_dir, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="session")
def synth_platform(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Synthesize the platform through ``npx cdk synth`` once per (env, profile) and session."""
    cache: dict[tuple[str, str | None], Path] = {}
    base = tmp_path_factory.mktemp("platform")

    def synth(env: str, profile: str | None = None) -> Path:
        key = (env, profile)
        if key not in cache:
            out = base / f"cdk.out.{env}.{profile or 'default'}"
            context = {"env": env, **({"profile": profile} if profile else {})}
            proc = run_cdk_synth(ROOT, out, context)
            if proc.returncode != 0:
                pytest.fail(
                    f"cdk synth -c env={env} failed ({proc.returncode}):\n"
                    f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
                )
            cache[key] = out
        return cache[key]

    return synth
