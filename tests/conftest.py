"""Shared fixtures: CDK environment variables and the platform synthesized once per session."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
# tests/ is on sys.path (for synth_support), so tests/stacks/ would be a namespace package
# "stacks" and tests/stacks/payments/ would shadow stacks.payments. A regular package anywhere
# on sys.path wins over namespace portions: put the repository's own stacks/ there.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from synth_support import CDK_ENV, ROOT, run_cdk_synth  # noqa: E402

os.environ.update(CDK_ENV)
# Never reach a real AWS endpoint from tests: no credentials unless a test sets them.
for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(var, None)


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
