"""AWS Lambda: functions (requests, GB-seconds, ephemeral storage, implicit logs, X-Ray traces)
and provisioned concurrency on versions and aliases."""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, fmt_mb, prices, refs_in
from reports.cost.resources.logs import log_storage_components
from reports.cost.traffic import invocations, is_deploy_time_handler, sampled_traces
from reports.cost.usage import UsageKey, derived

#: Memory at which a function gets one full vCPU (AWS Lambda: CPU is allocated in proportion to
#: memory, 1,769 MB = one vCPU).
MB_PER_VCPU = 1769.0

#: Hours a month provisioned concurrency is on (versions and aliases).
PROVISIONED_HOURS = UsageKey(
    "monthly_provisioned_hours", 730, "hours", "hours a month the provisioned concurrency is on"
)


def architecture(res: Resource, ctx: Context) -> str:
    archs = res.prop("Architectures")
    if isinstance(archs, list) and archs:
        arch = ctx.text(archs[0], "x86_64", "Architectures")
        return "arm64" if arch == "arm64" else "x86_64"
    return "x86_64"


def explicit_log_group(fn: Resource) -> Resource | None:
    tpl = fn.template
    target = tpl.get(fn.prop("LoggingConfig", "LogGroup"))
    if target is not None and target.type == "AWS::Logs::LogGroup":
        return target
    for group in tpl.referrers(fn.logical_id, "AWS::Logs::LogGroup"):
        return group
    name = fn.prop("LoggingConfig", "LogGroup")
    if isinstance(name, str):
        for group in tpl.of_type("AWS::Logs::LogGroup"):
            if group.prop("LogGroupName") == name:
                return group
    return None


def traced_by_api(fn: Resource, ctx: Context) -> bool:
    """Invoked by API Gateway in an environment whose stages trace: one trace, counted there."""
    for perm in fn.template.referrers(fn.logical_id, "AWS::Lambda::Permission"):
        principal = str(perm.prop("Principal") or "")
        if principal.startswith("apigateway."):
            return any(
                ctx.flag(stage.prop("TracingEnabled"), False, "TracingEnabled")
                for stage in ctx.environment.of_type("AWS::ApiGateway::Stage")
            )
    return False


#: Usage keys of a Lambda function (and of an AWS SAM function, priced the same way).
FUNCTION_USAGE = (
    UsageKey(
        "monthly_requests",
        100_000,
        "requests",
        "invocations a month (a function with an event source may state monthly_events instead)",
    ),
    UsageKey(
        "monthly_events",
        derived("invocations are monthly_requests"),
        "events",
        "records a month from the function's event source; invocations are events over the"
        " mapping's BatchSize (full batches assumed)",
    ),
    UsageKey(
        "request_duration_ms",
        200,
        "ms",
        "billed duration of one invocation (a batch for an event source) with at least one"
        " full vCPU (1,769 MB or more); below that its CPU-bound share stretches",
    ),
    UsageKey(
        "outbound_kb_per_request",
        2.0,
        "KB",
        "data one invocation of a function in a VPC sends out through NAT (calls to payment"
        " providers and AWS APIs without a VPC endpoint)",
    ),
    UsageKey(
        "cpu_bound_share",
        0.25,
        "share",
        "share of request_duration_ms spent on the CPU (the rest waits on DynamoDB, SQS and"
        " HTTPS calls); it scales with 1,769 MB over the memory below one vCPU",
    ),
    UsageKey(
        "log_kb_per_request",
        1.0,
        "KB",
        "log output of one invocation (START, END and REPORT lines and the handler's logs)",
    ),
    UsageKey(
        "xray_sampling_rate",
        0.05,
        "share",
        "share of invocations traced when tracing is active (X-Ray's default rule: one a"
        " second, then 5 %)",
    ),
    UsageKey(
        "deploy_time_requests",
        10,
        "requests",
        "invocations a month of a handler that backs a custom resource (it runs only while"
        " stacks deploy); monthly_requests set for the function wins",
    ),
)


@prices("AWS::Lambda::Function", service="AWS Lambda", usage=FUNCTION_USAGE)
def lambda_function(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    memory = ctx.number(res.prop("MemorySize"), 128, "MemorySize")
    arch = architecture(res, ctx)
    storage_mb = ctx.number(res.prop("EphemeralStorage", "Size"), 512, "EphemeralStorage.Size")
    ctx.attr("configuration", f"{fmt_mb(memory)} {arch}")
    calls = invocations(res, ctx)
    if is_deploy_time_handler(res):
        ctx.note("runs only while CloudFormation deploys the stack")
    stated_ms = ctx.usage.get("request_duration_ms")
    factor = duration_factor(memory, ctx.usage.get("cpu_bound_share"))
    duration_s = stated_ms * factor / 1000.0
    if factor > 1.0005:
        ctx.note(
            f"duration {stated_ms:g} ms at one vCPU stretched ×{factor:.2f} at {fmt_mb(memory)}"
            f" ({ctx.usage.get('cpu_bound_share'):.0%} of it CPU-bound, CPU share"
            f" {min(memory / MB_PER_VCPU, 1.0):.2f} vCPU)"
        )
    seconds = calls * duration_s
    reserved = res.prop("ReservedConcurrentExecutions")
    if reserved is not None:
        ceiling = ctx.number(reserved, 0, "ReservedConcurrentExecutions")
        peak_rate = calls / ctx.days * max(ctx.profile.workload.hourly_fractions()) / 3600.0
        concurrency = peak_rate * duration_s
        if concurrency > ceiling:
            ctx.warn(
                f"demand above reserved concurrency: {concurrency:,.0f} concurrent executions at"
                f" peak against ReservedConcurrentExecutions {ceiling:g}; throttling expected"
                " (the invocations that fit are what is billed; all are priced here)"
            )
    yield from ctx.charge("Requests", f"lambda.requests.{arch}", calls)
    yield from ctx.charge(
        f"Duration ({fmt_mb(memory)}, {duration_s * 1000:.4g} ms)",
        f"lambda.duration.{arch}",
        seconds * memory / 1024.0,
    )
    if storage_mb > 512:
        yield from ctx.charge(
            "Ephemeral storage",
            f"lambda.ephemeral_storage.{arch}",
            seconds * (storage_mb - 512) / 1024.0,
        )
    if explicit_log_group(res) is None:
        yield from _implicit_logs(res, ctx, calls)
    tracing = res.prop("TracingConfig", "Mode")
    if isinstance(tracing, str) and tracing == "Active":
        if traced_by_api(res, ctx):
            ctx.note("X-Ray traces counted on the API Gateway stage that invokes it")
        else:
            rate = ctx.usage.get("xray_sampling_rate")
            yield from ctx.charge(
                "X-Ray traces recorded",
                "xray.traces_recorded",
                sampled_traces(calls, rate, ctx),
                note=f"the first request each second, then {rate:.0%}",
            )


def duration_factor(memory_mb: float, cpu_bound_share: float) -> float:
    """How much longer an invocation runs at ``memory_mb`` than with one full vCPU.

    The CPU-bound part scales with the vCPU share of the memory (memory / 1,769 MB, at most one:
    a single-threaded handler gains nothing from a second vCPU); the waiting part does not.
    """
    share = min(max(cpu_bound_share, 0.0), 1.0)
    cpu = min(max(memory_mb, 1.0) / MB_PER_VCPU, 1.0)
    return (1.0 - share) + share / cpu


@prices("AWS::Serverless::Function", service="AWS Lambda", usage=FUNCTION_USAGE)
def serverless_function(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    """An AWS SAM function: priced as the Lambda function SAM makes of it (``Globals.Function``
    applied); what SAM adds around it (roles, an implicit API, event sources) is not priced."""
    ctx.note(
        "AWS SAM function, priced as the Lambda function it becomes; the resources SAM adds"
        " around it (an implicit API, roles, event sources) are not in the template"
    )
    yield from lambda_function(sam_function_view(res), ctx)


def sam_function_view(res: Resource) -> Resource:
    """The function's properties with the template's ``Globals.Function`` under them, and SAM's
    ``Tracing: Active`` as Lambda's ``TracingConfig``."""
    globals_ = (res.template.body.get("Globals") or {}).get("Function") or {}
    props = {**globals_, **res.properties} if isinstance(globals_, dict) else dict(res.properties)
    if props.get("Tracing") == "Active" and "TracingConfig" not in props:
        props["TracingConfig"] = {"Mode": "Active"}
    return Resource(
        logical_id=res.logical_id,
        type=res.type,
        properties=props,
        metadata=res.metadata,
        deletion_policy=res.deletion_policy,
        update_replace_policy=res.update_replace_policy,
        condition=res.condition,
        template=res.template,
    )


def _implicit_logs(res: Resource, ctx: Context, calls: float) -> Iterator[CostComponent]:
    """The ``/aws/lambda/<name>`` group Lambda creates itself when the template has none."""
    retention: float | None = None
    for custom in res.template.referrers(res.logical_id, "Custom::LogRetention"):
        if res.logical_id in refs_in(custom.prop("LogGroupName")):
            retention = ctx.number(custom.prop("RetentionInDays"), 0, "RetentionInDays") or None
    ingest_gb = calls * ctx.usage.get("log_kb_per_request") / (1024.0 * 1024.0)
    ctx.attr("log retention", "never expires" if retention is None else f"{retention:g} days")
    ctx.note(
        "logs go to the log group Lambda creates itself"
        + (" (retention set by Custom::LogRetention)" if retention else " (never expires)")
    )
    yield from log_storage_components(
        ctx, ingest_gb, retention, "STANDARD", prefix="Logs (implicit group): "
    )


@prices("AWS::Lambda::Version", service="AWS Lambda", usage=(PROVISIONED_HOURS,))
def lambda_version(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    yield from _provisioned(res, ctx)


@prices("AWS::Lambda::Alias", service="AWS Lambda", usage=(PROVISIONED_HOURS,))
def lambda_alias(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    yield from _provisioned(res, ctx)


def _provisioned(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    count = ctx.number(
        res.prop("ProvisionedConcurrencyConfig", "ProvisionedConcurrentExecutions"),
        0,
        "ProvisionedConcurrentExecutions",
    )
    if count <= 0:
        ctx.free("no provisioned concurrency: a version or alias has no charge of its own")
        return
    fn = _function_of(res, ctx)
    memory, arch = (128.0, "x86_64")
    if fn is not None:
        memory = ctx.number(fn.prop("MemorySize"), 128, "MemorySize")
        arch = architecture(fn, ctx)
    hours = ctx.usage.get("monthly_provisioned_hours")
    ctx.attr("provisioned concurrency", f"{count:g} × {fmt_mb(memory)} {arch}")
    ctx.note("invocations served by provisioned concurrency are priced at the on-demand rate")
    yield from ctx.charge(
        "Provisioned concurrency",
        f"lambda.provisioned_concurrency.{arch}",
        count * memory / 1024.0 * hours * 3600.0,
        usage_based=False,
    )


def _function_of(res: Resource, ctx: Context) -> Resource | None:
    target = ctx.target(res.prop("FunctionName"))
    if target is None and res.type == "AWS::Lambda::Alias":
        version = ctx.target(res.prop("FunctionVersion"))
        if version is not None:
            target = ctx.target(version.prop("FunctionName"))
    return target if target is not None and target.type == "AWS::Lambda::Function" else None
