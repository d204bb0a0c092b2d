"""Amazon CloudWatch alarms and dashboards."""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices


@prices("AWS::CloudWatch::Alarm", service="AmazonCloudWatch")
def alarm(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    metrics = res.prop("Metrics")
    count = 1
    anomaly = False
    if isinstance(metrics, list) and metrics:
        count = sum(1 for m in metrics if isinstance(m, dict) and m.get("MetricStat")) or 1
        anomaly = any(
            isinstance(m, dict) and "ANOMALY_DETECTION_BAND" in str(m.get("Expression", ""))
            for m in metrics
        )
    period = ctx.number(res.prop("Period"), 60, "Period")
    if isinstance(metrics, list):
        periods = [
            m["MetricStat"].get("Period")
            for m in metrics
            if isinstance(m, dict) and isinstance(m.get("MetricStat"), dict)
        ]
        if periods:
            period = min(ctx.number(p, 60, "MetricStat.Period") for p in periods)
    high_res = period < 60
    if anomaly:
        count *= 3
        ctx.note("an anomaly-detection alarm is billed as three metrics")
    key = "cloudwatch.alarm.high_resolution" if high_res else "cloudwatch.alarm.standard"
    yield from ctx.charge(
        "Alarm metrics" + (" (high resolution)" if high_res else ""), key, count, usage_based=False
    )


@prices("AWS::CloudWatch::CompositeAlarm", service="AmazonCloudWatch")
def composite_alarm(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    yield from ctx.charge("Composite alarm", "cloudwatch.alarm.composite", 1, usage_based=False)


@prices("AWS::CloudWatch::Dashboard", service="AmazonCloudWatch")
def dashboard(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    yield from ctx.charge("Dashboard", "cloudwatch.dashboard", 1, usage_based=False)
