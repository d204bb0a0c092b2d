"""The one entry point: builds the payment platform for the environment named by ``-c env=...``.

npx cdk synth -c env=production [-c suffix=pr42] [-c profile=legacy]
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

import governance
from governance.policy import PolicyError
from stacks.config import ConfigError, load_environment
from stacks.platform import build_platform


def main() -> None:
    app = cdk.App()
    ctx = app.node.try_get_context
    try:
        config = load_environment(
            {
                "environments": ctx("environments"),
                "governance": ctx("governance"),
                "platform_profiles": ctx("platform_profiles"),
            },
            env=ctx("env"),
            suffix=ctx("suffix"),
            profile=ctx("profile"),
        )
        policy = governance.policy_from_app(app)
        build_platform(app, config)  # section settings (payments, platform) are read here
    except (ConfigError, PolicyError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    governance.apply(app, policy)
    app.synth()


if __name__ == "__main__":
    main()
