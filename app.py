"""The one entry point: builds every stack of the environment named by ``-c env=...``.

npx cdk synth -c env=production [-c suffix=pr42] [-c profile=legacy]

The context is read once into one typed configuration (:mod:`stacks.config`), and the
governance policy is built from the same environment, profile and suffix; both are checked
before the CDK is loaded. A configuration error is one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from governance.policy import Policy, PolicyError
from stacks.config import ConfigError, Configuration, cli_context, load_configuration, tag_value


def configure(context: Mapping[str, Any]) -> tuple[Configuration, Policy]:
    """The run's configuration and its policy, for one and the same environment, profile, suffix."""
    config = load_configuration(context)
    policy = Policy.from_context(
        context.get("governance"),
        environment=config.name,
        profile=config.profile,
        suffix=config.suffix,
    )
    return config, policy


def main() -> None:
    try:
        config, policy = configure(cli_context())
        cost_center = tag_value(
            policy, "CostCenter", "the platform's budget and cost anomaly monitor filter on it"
        )
    except (ConfigError, PolicyError) as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)

    import aws_cdk as cdk

    import governance
    from stacks.assembly import build

    app = cdk.App(builtin_cloud_formation_validation=config.cdk_builtin_validation)
    try:
        build(app, config, cost_center=cost_center)
    except ConfigError as exc:  # a combination only the stacks can judge
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    governance.apply(app, policy)
    app.synth()


if __name__ == "__main__":
    main()
