"""The system's stacks for one environment, in deployment order (called by ``stacks/assembly.py``).

1. ``GlobalDataKeysSecondary`` - the secondary region's purpose keys;
2. ``GlobalDataKeysPrimary`` - the primary region's purpose keys;
3. ``GlobalDataTable`` - the global table and its replica (primary region);
4. ``GlobalDataServicePrimary`` - bucket, processor, API, domain, alarms (primary region), and the
   API-key secret with its replica in the secondary region;
5. ``GlobalDataServiceSecondary`` - the same in the secondary region, on the local replica;
6. ``GlobalDataFailover`` - health checks, failover records, their alarms (the region where
   Route 53 publishes health-check metrics).

Each stack depends only on earlier ones, so ``cdk destroy`` removes them in the reverse order:
the failover records, the secondary service, the primary service, the table with its replica,
then the keys (scheduled for deletion after their window).
"""

from __future__ import annotations

import dataclasses

from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw

import governance
from stacks.config import Configuration
from stacks.global_data.failover import FailoverStack
from stacks.global_data.keys import KeysStack
from stacks.global_data.service import ServiceStack
from stacks.global_data.table import TableStack, table_name

#: Short names of the stacks (as :func:`build` returns them).
NAMES = (
    "global_data_keys_secondary",
    "global_data_keys_primary",
    "global_data_table",
    "global_data_service_primary",
    "global_data_service_secondary",
    "global_data_failover",
)


def build(app: App, config: Configuration) -> dict[str, Stack]:
    """Create the system's stacks; returns them by short name (:data:`NAMES`)."""
    s = config.global_data
    primary_region, secondary_region = config.region, config.secondary_region
    primary_env = config.deployment
    secondary_env = dataclasses.replace(primary_env, region=secondary_region)
    metrics_env = dataclasses.replace(primary_env, region=s.failover.health_check.metrics_region)
    name = table_name(config.suffix)
    addresses = config.addresses(s.alarms.subscriptions)

    keys_secondary = KeysStack(
        app, "GlobalDataKeysSecondary", settings=s.keys, role="Secondary", deployment=secondary_env
    )
    keys_primary = KeysStack(
        app, "GlobalDataKeysPrimary", settings=s.keys, role="Primary", deployment=primary_env
    )
    table = TableStack(
        app,
        "GlobalDataTable",
        settings=s.table,
        key=keys_primary.keys["table"],
        replica_region=secondary_region,
        replica_key=keys_secondary.keys["table"],
        replica_stack=keys_secondary,
        log_key=keys_primary.keys["audit"],
        log_retention_days=s.processor.log_retention_days,
        deployment=primary_env,
    )
    primary = ServiceStack(
        app,
        "GlobalDataServicePrimary",
        settings=s,
        role="Primary",
        keys=keys_primary.keys,
        replica_keys=keys_secondary,
        table_name=name,
        other_region=secondary_region,
        shared_api=config.payments.api,
        alarm_addresses=addresses,
        deployment=primary_env,
    )
    primary.add_stack_dependency(table)
    secondary = ServiceStack(
        app,
        "GlobalDataServiceSecondary",
        settings=s,
        role="Secondary",
        keys=keys_secondary.keys,
        table_name=name,
        other_region=primary_region,
        shared_api=config.payments.api,
        alarm_addresses=addresses,
        deployment=secondary_env,
    )
    secondary.add_stack_dependency(table)  # its replica
    secondary.add_stack_dependency(primary)  # the API-key secret's replica
    failover = FailoverStack(
        app,
        "GlobalDataFailover",
        settings=s,
        services=(primary, secondary),
        alarm_addresses=addresses,
        deployment=metrics_env,
    )
    return dict(
        zip(NAMES, (keys_secondary, keys_primary, table, primary, secondary, failover), strict=True)
    )


def acknowledge_regional_apis(shared_api: apigw.RestApi) -> None:
    """The environment's REST API allowance is exceeded by this system's API in each region.

    COST-API-001 reports the APIs ranked beyond the allowance by stack and logical id, which ranks
    the environment's shared API (stack ``Payments``) after ``GlobalData*``: the exception is the
    deployment's, so it is acknowledged on every API the rule can report."""
    governance.acknowledge(
        shared_api,
        "COST-API-001",
        "The deployment has the environment's shared REST API plus one regional API per region "
        "for the global data system: Route 53 fails the custom domain over between the regions' "
        "APIs, and a regional API serves only its own region, so these cannot be one API. The "
        "shared API is reported only because the rule ranks APIs by stack name.",
    )
