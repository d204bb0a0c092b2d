"""Messaging and events: SQS queues, SNS topics (publishes and paid deliveries), EventBridge
buses and Step Functions state machines."""

from __future__ import annotations

import math
from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices
from reports.cost.usage import UsageKey

SNS_DELIVERY = {
    "email": "sns.delivery.email",
    "email-json": "sns.delivery.email",
    "http": "sns.delivery.http",
    "https": "sns.delivery.http",
    "firehose": "sns.delivery.firehose",
    "application": "sns.delivery.application",
    "sms": "sns.delivery.sms",
}
FREE_DELIVERY = {"sqs", "lambda"}


@prices(
    "AWS::SQS::Queue",
    service="Amazon Simple Queue Service",
    usage=(
        UsageKey(
            "monthly_requests",
            100_000,
            "requests",
            "API requests a month (sends, receives, deletes), each 64 KB chunk counted",
        ),
        UsageKey("request_size_kb", 4, "KB", "payload of one request, billed in 64 KB chunks"),
        UsageKey(
            "esm_pollers", 5, "pollers", "long pollers a Lambda event source runs on the queue"
        ),
        UsageKey(
            "long_poll_seconds",
            20,
            "seconds",
            "wait of each long poll: idle pollers make a request this often, all month",
        ),
    ),
)
def sqs_queue(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    fifo = ctx.flag(res.prop("FifoQueue"), False, "FifoQueue")
    key = "sqs.fifo" if fifo else "sqs.standard"
    ctx.attr("queue", "FIFO" if fifo else "standard")
    size_kb = ctx.usage.get("request_size_kb")
    chunks = max(1, math.ceil(size_kb / 64.0))
    requests = ctx.usage.get("monthly_requests") * chunks
    yield from ctx.charge(
        "Requests",
        key,
        requests,
        note=f"{chunks} × 64 KB chunk(s) per request" if chunks > 1 else "",
    )
    mappings = res.template.referrers(res.logical_id, "AWS::Lambda::EventSourceMapping")
    if mappings:
        pollers = ctx.usage.get("esm_pollers")
        wait = max(ctx.usage.get("long_poll_seconds"), 1.0)
        polls = len(mappings) * pollers * ctx.hours * 3600.0 / wait
        yield from ctx.charge(
            "Long polls by Lambda event source pollers",
            key,
            polls,
            note=f"{pollers:g} pollers × one {wait:g}-second long poll each, all month",
        )


@prices(
    "AWS::SNS::Topic",
    service="Amazon Simple Notification Service",
    usage=(
        UsageKey(
            "monthly_requests",
            1000,
            "requests",
            "publishes a month; each paid subscription protocol is charged per delivery",
        ),
    ),
)
def sns_topic(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    fifo = ctx.flag(res.prop("FifoTopic"), False, "FifoTopic")
    publishes = ctx.usage.get("monthly_requests")
    yield from ctx.charge(
        "Publish requests", "sns.fifo.publish" if fifo else "sns.publish", publishes
    )
    protocols: list[str] = []
    for sub in res.template.referrers(res.logical_id, "AWS::SNS::Subscription"):
        protocols.append(ctx.text(sub.prop("Protocol"), "unknown", "Protocol").lower())
    inline = res.prop("Subscription")
    if isinstance(inline, list):
        for sub in inline:
            if isinstance(sub, dict):
                protocols.append(ctx.text(sub.get("Protocol"), "unknown", "Protocol").lower())
    counts: dict[str, int] = {}
    for protocol in protocols:
        counts[protocol] = counts.get(protocol, 0) + 1
    if counts:
        ctx.attr("subscriptions", ", ".join(f"{n} {p}" for p, n in sorted(counts.items())))
    for protocol, n in sorted(counts.items()):
        if protocol in FREE_DELIVERY:
            ctx.note(f"deliveries to {protocol} are free")
            continue
        key = SNS_DELIVERY.get(protocol, f"sns.delivery.{protocol}")
        yield from ctx.charge(f"{protocol} notifications ({n} subscriber(s))", key, publishes * n)


@prices(
    "AWS::Events::EventBus",
    service="Amazon EventBridge",
    usage=(
        UsageKey(
            "monthly_custom_events",
            100_000,
            "events",
            "custom events put on the bus a month (AWS service events are free)",
        ),
    ),
)
def event_bus(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    ctx.note("events from AWS services are free; custom events are priced")
    yield from ctx.charge("Custom events", "events.custom", ctx.usage.get("monthly_custom_events"))


@prices(
    "AWS::StepFunctions::StateMachine",
    service="AWS Step Functions",
    usage=(
        UsageKey(
            "monthly_transitions", 100_000, "transitions", "state transitions a month (standard)"
        ),
        UsageKey("monthly_requests", 100_000, "requests", "executions a month (express)"),
    ),
)
def state_machine(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    kind = ctx.text(res.prop("StateMachineType"), "STANDARD", "StateMachineType")
    ctx.attr("type", kind.lower())
    if kind == "EXPRESS":
        ctx.note("express workflow duration is not priced")
        yield from ctx.charge("Requests", "sfn.express.requests", ctx.usage.get("monthly_requests"))
    else:
        yield from ctx.charge(
            "State transitions", "sfn.standard.transitions", ctx.usage.get("monthly_transitions")
        )
