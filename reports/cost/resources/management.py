"""Systems Manager parameters: standard ones are free, advanced ones are priced."""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices


@prices("AWS::SSM::Parameter", service="AWS Systems Manager")
def ssm_parameter(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    tier = ctx.text(res.prop("Tier"), "Standard", "Tier")
    ctx.attr("tier", tier)
    if tier == "Advanced":
        yield from ctx.charge("Advanced parameter", "ssm.parameter.advanced", 1, usage_based=False)
    else:
        ctx.free(f"{tier} parameters are free")
