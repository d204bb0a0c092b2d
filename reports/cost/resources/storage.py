"""Amazon S3 buckets, with their lifecycle rules modelled as a share of time per storage class.

Objects arrive at a steady rate (``monthly_ingest_gb``) and live ``ExpirationInDays`` (or
``retention_horizon_days`` when they never expire). An object spends the first ``t1`` days in
Standard, then ``t2 - t1`` days in the class of the first transition, and so on; in steady state
the bucket holds ``daily ingest × days in class`` of data in each class, and each class is priced
for that share. Intelligent-Tiering is split the same way (frequent for 30 days, then
infrequent, then the archive tiers the bucket enables), assuming objects are not read again.
Given ``storage_gb`` instead, the total is split by the same shares of time.

Objects under 128 KB (by ``average_object_size_kb``) are not moved by a transition: since
September 2024 S3 Lifecycle's default (``TransitionDefaultMinimumObjectSize:
all_storage_classes_128K``) keeps them in their class, ``varies_by_storage_class`` lets them go
to Glacier Flexible Retrieval and Deep Archive only, and a rule's own ``ObjectSizeGreaterThan``/
``ObjectSizeLessThan`` filter takes precedence over both (S3 User Guide, "Transitioning objects
using Amazon S3 Lifecycle", read 2026-12-03). Such objects pay no transition request and keep
their class's price; a rule whose size filter the objects miss does not apply to them at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.references import exports_of, targets
from reports.cost.resources.base import Context, prices
from reports.cost.usage import UsageKey, derived

KB_PER_GB = 1024.0 * 1024.0


@dataclass(frozen=True)
class StorageClass:
    label: str
    storage_key: str
    transition_key: str | None
    minimum_days: int
    archive: bool = False  # Glacier/Deep Archive: 40 KB of per-object overhead


CLASSES = {
    "STANDARD": StorageClass("Standard", "s3.standard.storage", None, 0),
    "STANDARD_IA": StorageClass(
        "Standard-IA", "s3.standard_ia.storage", "s3.transition.standard_ia", 30
    ),
    "ONEZONE_IA": StorageClass(
        "One Zone-IA", "s3.onezone_ia.storage", "s3.transition.onezone_ia", 30
    ),
    "GLACIER_IR": StorageClass(
        "Glacier Instant Retrieval", "s3.glacier_ir.storage", "s3.transition.glacier_ir", 90
    ),
    "GLACIER": StorageClass(
        "Glacier Flexible Retrieval", "s3.glacier.storage", "s3.transition.glacier", 90, True
    ),
    "DEEP_ARCHIVE": StorageClass(
        "Glacier Deep Archive", "s3.deep_archive.storage", "s3.transition.deep_archive", 180, True
    ),
    "INTELLIGENT_TIERING": StorageClass(
        "Intelligent-Tiering", "", "s3.transition.intelligent_tiering", 0
    ),
}
IT_TIERS = {
    "frequent": ("Intelligent-Tiering frequent access", "s3.intelligent_tiering.frequent"),
    "infrequent": ("Intelligent-Tiering infrequent access", "s3.intelligent_tiering.infrequent"),
    "ARCHIVE_ACCESS": ("Intelligent-Tiering archive access", "s3.intelligent_tiering.archive"),
    "DEEP_ARCHIVE_ACCESS": (
        "Intelligent-Tiering deep archive access",
        "s3.intelligent_tiering.deep_archive",
    ),
}


@dataclass(frozen=True)
class Segment:
    """Days ``start``..``end`` of an object's life spent in ``storage_class``."""

    storage_class: str
    start: float
    end: float
    ends_in_deletion: bool

    @property
    def days(self) -> float:
        return self.end - self.start


#: Below this size S3 Lifecycle does not transition an object unless a size filter says so.
SMALL_OBJECT_KB = 128
#: Classes ``varies_by_storage_class`` still lets objects under 128 KB transition to.
SMALL_OBJECT_ARCHIVES = ("GLACIER", "DEEP_ARCHIVE")


def _size_filter(rule: dict, ctx: Context) -> tuple[float | None, float | None]:
    """A rule's ``ObjectSizeGreaterThan``/``ObjectSizeLessThan`` (bytes), each ``None`` if unset."""
    bounds = []
    for key in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        value = rule.get(key)
        if value is None and isinstance(rule.get("Filter"), dict):
            value = rule["Filter"].get(key)
        bounds.append(None if value is None else ctx.number(value, 0, key))
    return bounds[0], bounds[1]


def _small_objects_move_to(
    res: Resource, ctx: Context, rule: dict, object_kb: float
) -> tuple[bool, tuple[str, ...] | None]:
    """Whether ``rule`` applies to objects of ``object_kb``, and the classes it may move them to
    (``None``: any class)."""
    label = f"lifecycle rule {rule.get('Id', '')}".rstrip()
    above, below = _size_filter(rule, ctx)
    size = object_kb * 1024
    if above is not None or below is not None:
        if (above is not None and size <= above) or (below is not None and size >= below):
            ctx.note(
                f"{label} filters by object size; objects of about {object_kb:g} KB fall outside"
                " it, so it does not apply to them"
            )
            return False, ()
        return True, None  # a custom size filter takes precedence over the 128 KB default
    if object_kb >= SMALL_OBJECT_KB:
        return True, None
    default = ctx.text(
        res.prop("LifecycleConfiguration", "TransitionDefaultMinimumObjectSize"),
        "all_storage_classes_128K",
        "TransitionDefaultMinimumObjectSize",
    )
    if default == "varies_by_storage_class":
        return True, SMALL_OBJECT_ARCHIVES
    return True, ()


def lifecycle(
    res: Resource, ctx: Context, horizon: float, object_kb: float = float(SMALL_OBJECT_KB)
) -> tuple[list[Segment], float | None]:
    """The segments of the life of an object of ``object_kb`` under the bucket's enabled rules,
    and its expiration."""
    rules = res.prop("LifecycleConfiguration", "Rules") or []
    transitions: dict[str, float] = {}
    expiration: float | None = None
    held: set[str] = set()
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict) or rule.get("Status") != "Enabled":
            continue
        if any(rule.get(k) for k in ("Prefix", "TagFilters")):
            ctx.note(
                f"lifecycle rule {rule.get('Id', '')} has a filter; assumed to cover all objects"
            )
        applies, allowed = _small_objects_move_to(res, ctx, rule, object_kb)
        if not applies:
            continue
        items = list(rule.get("Transitions") or [])
        if isinstance(rule.get("Transition"), dict):
            items.append(rule["Transition"])
        for item in items:
            if not isinstance(item, dict):
                continue
            cls = ctx.text(item.get("StorageClass"), "", "StorageClass")
            if item.get("TransitionInDays") is None:
                ctx.note("a transition by date is not modelled")
                continue
            if allowed is not None and cls not in allowed:
                held.add(cls)
                continue
            day = ctx.number(item.get("TransitionInDays"), 0, "TransitionInDays")
            transitions[cls] = min(day, transitions.get(cls, day))
        if rule.get("ExpirationInDays") is not None:
            days = ctx.number(rule.get("ExpirationInDays"), 0, "ExpirationInDays")
            expiration = days if expiration is None else min(expiration, days)
    life = horizon if expiration is None else min(expiration, horizon)
    if expiration is not None and expiration > horizon:
        ctx.note(
            f"objects are at most {horizon:g} days old (retention_horizon_days): the expiration"
            f" at day {expiration:g} is not reached yet"
        )
    if held:
        names = ", ".join(CLASSES[c].label if c in CLASSES else c for c in sorted(held))
        ctx.note(
            f"objects of about {object_kb:g} KB are under {SMALL_OBJECT_KB} KB: S3 Lifecycle does"
            f" not transition them to {names} (TransitionDefaultMinimumObjectSize, by default"
            " all_storage_classes_128K since September 2024, and no size filter on the rule);"
            " they stay in their class, with no transition requests"
        )
        ctx.attr("objects under 128 KB", f"not transitioned to {names}")
    steps = sorted(((day, cls) for cls, day in transitions.items()), key=lambda x: x[0])
    segments: list[Segment] = []
    current, start = "STANDARD", 0.0
    for day, cls in steps:
        end = min(day, life)
        if end > start:
            segments.append(Segment(current, start, end, False))
        current, start = cls, max(start, day)
        if start >= life:
            break
    if life > start:
        segments.append(
            Segment(current, start, life, expiration is not None and expiration <= horizon)
        )
    return segments, expiration


def _it_tiers(res: Resource, ctx: Context) -> list[tuple[str, float]]:
    """Archive tiers enabled by the bucket's Intelligent-Tiering configurations (days)."""
    out: dict[str, float] = {}
    for conf in res.prop("IntelligentTieringConfigurations") or []:
        if not isinstance(conf, dict) or conf.get("Status") != "Enabled":
            continue
        for tier in conf.get("Tierings") or []:
            if isinstance(tier, dict) and tier.get("AccessTier") in IT_TIERS:
                out[tier["AccessTier"]] = ctx.number(tier.get("Days"), 90, "Tierings.Days")
    return sorted(out.items(), key=lambda x: x[1])


def _split_it(segment: Segment, archive: list[tuple[str, float]]) -> list[tuple[str, float, float]]:
    """(tier, start, end) inside an Intelligent-Tiering segment, objects never read again."""
    marks = [("frequent", 0.0), ("infrequent", 30.0), *archive]
    out = []
    for i, (tier, offset) in enumerate(marks):
        start = segment.start + offset
        end = segment.start + marks[i + 1][1] if i + 1 < len(marks) else segment.end
        end = min(end, segment.end)
        if end > start:
            out.append((tier, start, end))
    return out


def describe(segments: list[Segment], expiration: float | None) -> str:
    moves = [s for s in segments if s.storage_class != "STANDARD"]
    if not moves:
        text = "none"
    else:
        text = ", ".join(
            f"{CLASSES[s.storage_class].label if s.storage_class in CLASSES else s.storage_class}"
            f" from day {s.start:g}"
            for s in moves
        )
    if expiration is not None:
        text = f"{text}; expire at day {expiration:g}" if moves else f"expire at day {expiration:g}"
    return text


@prices(
    "AWS::S3::Bucket",
    service="Amazon Simple Storage Service",
    usage=(
        UsageKey(
            "monthly_ingest_gb",
            10,
            "GB",
            "new data written to the bucket a month; a bucket the template's server access logs,"
            " CloudTrail trails, S3 flow logs or CloudFront logs write to gets theirs instead",
        ),
        UsageKey(
            "access_log_kb_per_request",
            0.4,
            "KB",
            "server access log record of one request to a bucket that logs to this one (one line"
            " of about 25 fields)",
        ),
        UsageKey(
            "trail_log_kb_per_event",
            1.0,
            "KB",
            "CloudTrail record of one event delivered to this bucket (JSON, before compression)",
        ),
        UsageKey(
            "cdn_log_kb_per_request",
            0.5,
            "KB",
            "CloudFront standard log record of one request delivered to this bucket",
        ),
        UsageKey(
            "storage_gb",
            derived("monthly_ingest_gb held as long as the lifecycle keeps it"),
            "GB",
            "data held, split over the storage classes by the lifecycle's shares of time",
        ),
        UsageKey(
            "average_object_size_kb",
            256,
            "KB",
            "average object size: PUTs, transitions and per-object overheads follow from it",
        ),
        UsageKey(
            "monthly_tier_1_requests",
            derived("one PUT per new object"),
            "requests",
            "PUT, COPY, POST and LIST requests a month",
        ),
        UsageKey("monthly_tier_2_requests", 10_000, "requests", "GET and other requests a month"),
        UsageKey(
            "retention_horizon_days",
            365,
            "days",
            "age the data of a bucket whose objects never expire has reached",
        ),
    ),
)
def s3_bucket(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    horizon = ctx.usage.get("retention_horizon_days")
    object_kb = max(ctx.usage.get("average_object_size_kb"), 0.001)
    segments, expiration = lifecycle(res, ctx, horizon, object_kb)
    life = sum(s.days for s in segments) or 1.0
    ctx.attr("lifecycle", describe(segments, expiration))
    if ctx.usage.has("storage_gb"):
        total = ctx.usage.get("storage_gb")
        daily_gb = total / life
    else:
        daily_gb = bucket_ingest_gb(res, ctx) / ctx.days
    monthly_objects = daily_gb * ctx.days * KB_PER_GB / object_kb
    if expiration is None:
        ctx.note(f"objects never expire: {horizon:g} days of data held")
    if (res.prop("VersioningConfiguration", "Status") or "") == "Enabled":
        ctx.note("noncurrent object versions are not modelled")
    archive_tiers = _it_tiers(res, ctx)
    for seg in segments:
        cls = CLASSES.get(seg.storage_class)
        if cls is None:
            yield from ctx.charge(
                f"{seg.storage_class} storage",
                f"s3.{seg.storage_class.lower()}.storage",
                daily_gb * seg.days,
            )
            continue
        share = f"{seg.days:g} of {life:g} days"
        if seg.storage_class == "INTELLIGENT_TIERING":
            yield from _intelligent_tiering(ctx, seg, daily_gb, object_kb, archive_tiers, life)
        else:
            yield from ctx.charge(
                f"{cls.label} storage", cls.storage_key, daily_gb * seg.days, note=share
            )
        if cls.transition_key and seg.storage_class != "STANDARD":
            yield from ctx.charge(
                f"Lifecycle transitions to {cls.label}", cls.transition_key, monthly_objects
            )
        if cls.archive:
            objects = monthly_objects / ctx.days * seg.days
            yield from ctx.charge(
                f"{cls.label} per-object overhead (32 KB each)",
                cls.storage_key,
                objects * 32 / KB_PER_GB,
            )
            yield from ctx.charge(
                f"{cls.label} per-object index in Standard (8 KB each)",
                "s3.standard.storage",
                objects * 8 / KB_PER_GB,
            )
        if cls.minimum_days and seg.days < cls.minimum_days:
            yield from ctx.charge(
                f"{cls.label} early deletion (minimum {cls.minimum_days} days)",
                cls.storage_key,
                daily_gb * (cls.minimum_days - seg.days),
            )
    puts = (
        ctx.usage.get("monthly_tier_1_requests")
        if ctx.usage.has("monthly_tier_1_requests")
        else monthly_objects
    )
    yield from ctx.charge("PUT, COPY, POST, LIST requests", "s3.requests.tier1", puts)
    gets = ctx.usage.get("monthly_tier_2_requests")
    if gets:
        yield from ctx.charge("GET and other requests", "s3.requests.tier2", gets)


def _writers(ctx: Context) -> dict[str, list[tuple[str, Resource]]]:
    """``template/logical-id`` of a bucket → (kind, writer) for the environment, built once."""
    cache = ctx.environment.cache
    found = cache.get("s3-writers")
    if found is not None:
        return found
    out: dict[str, list[tuple[str, Resource]]] = {}
    templates = ctx.environment.templates
    exports = exports_of(templates)
    for tpl in templates:
        for res in tpl.resources.values():
            if res.type == "AWS::S3::Bucket":
                value, kind = res.prop("LoggingConfiguration", "DestinationBucketName"), "access"
            elif res.type == "AWS::CloudTrail::Trail":
                value, kind = res.prop("S3BucketName"), "trail"
            elif res.type == "AWS::EC2::FlowLog" and res.prop("LogDestinationType") == "s3":
                value, kind = res.prop("LogDestination"), "flow"
            elif res.type == "AWS::CloudFront::Distribution":
                value, kind = res.prop("DistributionConfig", "Logging", "Bucket"), "cdn"
            else:
                continue
            for dest in targets(tpl, value, exports):
                out.setdefault(dest, []).append((kind, res))
    cache["s3-writers"] = out
    return out


def bucket_ingest_gb(res: Resource, ctx: Context, depth: int = 0) -> float:
    """GB a month written to a bucket: what the template's log writers send it, unless the
    profile states ``monthly_ingest_gb`` for it; else the declared default."""
    usage = ctx.usage_of(res) if res is not ctx.resource else ctx.usage
    writers = _writers(ctx).get(f"{res.template.name}/{res.logical_id}", [])
    if usage.is_explicit("monthly_ingest_gb") or not writers or depth > 3:
        return usage.get("monthly_ingest_gb")
    total, names = 0.0, []
    for kind, writer in writers:
        if kind == "access":
            kb = usage.get("access_log_kb_per_request")
            total += bucket_requests(writer, ctx, depth + 1) * kb / KB_PER_GB
            names.append(f"server access logs of bucket {writer.logical_id}")
        elif kind == "trail":
            trail = ctx.usage_of(writer)
            events = trail.get("monthly_management_events")
            if str(writer.prop("EventSelectors") or "").find("DataResources") >= 0:
                events += trail.get("monthly_data_events")
            total += events * usage.get("trail_log_kb_per_event") / KB_PER_GB
            names.append(f"CloudTrail trail {writer.logical_id}")
        elif kind == "flow":
            total += ctx.usage_of(writer).get("monthly_data_gb")
            names.append(f"flow log {writer.logical_id}")
        else:
            requests = ctx.usage_of(writer).get("monthly_https_requests")
            total += requests * usage.get("cdn_log_kb_per_request") / KB_PER_GB
            names.append(f"CloudFront logs of {writer.logical_id}")
    if res is ctx.resource:
        ctx.note("data written follows from " + ", ".join(sorted(names)))
    return total


def bucket_requests(res: Resource, ctx: Context, depth: int = 0) -> float:
    """Requests a month to a bucket (PUTs of its new objects and its GETs): what its access
    logs record."""
    usage = ctx.usage_of(res)
    if usage.has("monthly_tier_1_requests"):
        puts = usage.get("monthly_tier_1_requests")
    else:
        object_kb = max(usage.get("average_object_size_kb"), 0.001)
        puts = bucket_ingest_gb(res, ctx, depth) * KB_PER_GB / object_kb
    return puts + usage.get("monthly_tier_2_requests")


def _intelligent_tiering(
    ctx: Context,
    seg: Segment,
    daily_gb: float,
    object_kb: float,
    archive: list[tuple[str, float]],
    life: float,
) -> Iterator[CostComponent]:
    if object_kb < 128:
        ctx.note("objects under 128 KB stay in the frequent tier and are not monitored")
        label, key = IT_TIERS["frequent"]
        yield from ctx.charge(
            label, key, daily_gb * seg.days, note=f"{seg.days:g} of {life:g} days"
        )
        return
    if seg.days > 90 and not any(days <= 90 for _, days in archive):
        ctx.note(
            "Intelligent-Tiering's automatic Archive Instant Access tier (after 90 days) is not in"
            " the catalogue: that data is priced as infrequent access"
        )
    for tier, start, end in _split_it(seg, archive):
        label, key = IT_TIERS[tier]
        yield from ctx.charge(
            label, key, daily_gb * (end - start), note=f"{end - start:g} of {life:g} days"
        )
    objects = daily_gb * seg.days * KB_PER_GB / object_kb
    yield from ctx.charge(
        "Intelligent-Tiering monitoring", "s3.intelligent_tiering.monitoring", objects
    )
