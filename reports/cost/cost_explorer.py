"""Actual spend from AWS Cost Explorer, beside the estimate.

* :func:`cost_and_usage` calls ``GetCostAndUsage`` and follows ``NextPageToken`` by hand (the
  API has no paginator; every page is a billed request).
* :func:`fetch_actuals` gets daily spend by ``SERVICE``, by the cost-allocation tag (default
  ``CostCenter``) and by ``LINKED_ACCOUNT`` over two windows of equal length in complete days,
  before and after the change, and compares daily rates (a month of 28 days and one of 31, or a
  partial month, never pass for a saving); days Cost Explorer still marks ``Estimated`` are
  listed. Amortized cost by default (unblended on request); credits, refunds and tax are left
  out by ``RECORD_TYPE`` unless asked. The forecast (``GetCostForecast``) is shown per month
  beside the month-to-date actuals, and the anomalies (``GetAnomalies``, paginated by hand).
* Errors become :class:`CostExplorerError` with one readable line (throttling, access denied,
  no credentials, unreachable endpoint); a section that fails (e.g. the forecast) is reported as
  unavailable while the others are kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

THROTTLING = {
    "ThrottlingException",
    "LimitExceededException",
    "Throttling",
    "TooManyRequestsException",
}
ACCESS_DENIED = {
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
}
NO_CREDENTIALS_MESSAGE = "no AWS credentials: estimate only"


class CostExplorerError(Exception):
    """A Cost Explorer call failed; ``str()`` is one line for the user."""


def describe_error(exc: Exception, operation: str) -> str:
    """One line explaining a failed call, never a traceback."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Unknown"))
        message = str(err.get("Message", "")).strip()
        if code in THROTTLING:
            return (
                f"Cost Explorer throttled {operation} ({code}); wait a minute and retry"
                " (the API allows a few requests a second per account)"
            )
        if code in ACCESS_DENIED:
            return (
                f"access denied to Cost Explorer {operation} ({code}): the credentials need"
                f" ce:{operation}" + (f" — {message}" if message else "")
            )
        if code == "DataUnavailableException":
            return f"Cost Explorer has no data for {operation} in that period"
        return f"Cost Explorer {operation} failed ({code})" + (f": {message}" if message else "")
    if isinstance(exc, NoCredentialsError):
        return NO_CREDENTIALS_MESSAGE
    if isinstance(exc, EndpointConnectionError):
        return f"Cost Explorer endpoint unreachable for {operation}: {exc}"
    if isinstance(exc, BotoCoreError):
        return f"Cost Explorer {operation} failed: {exc}"
    return f"Cost Explorer {operation} failed: {type(exc).__name__}: {exc}"


@dataclass
class CallLog:
    """How many billed requests were made (each page is $0.01)."""

    requests: int = 0


def cost_and_usage(
    client: Any,
    log: CallLog | None = None,
    names: dict[str, str] | None = None,
    **params: Any,
) -> list[dict[str, Any]]:
    """Every ``ResultsByTime`` entry of a ``GetCostAndUsage`` query, across all pages;
    ``names`` collects ``DimensionValueAttributes`` descriptions (linked accounts' names)."""
    results: list[dict[str, Any]] = []
    token: str | None = None
    seen: set[str] = set()
    while True:
        call = dict(params)
        if token:
            call["NextPageToken"] = token
        try:
            page = client.get_cost_and_usage(**call)
        except Exception as exc:
            raise CostExplorerError(describe_error(exc, "GetCostAndUsage")) from None
        if log is not None:
            log.requests += 1
        results.extend(page.get("ResultsByTime") or [])
        if names is not None:
            for attr in page.get("DimensionValueAttributes") or []:
                desc = (attr.get("Attributes") or {}).get("description")
                if attr.get("Value") and desc:
                    names[str(attr["Value"])] = str(desc)
        token = page.get("NextPageToken")
        if not token:
            return results
        if token in seen:  # a server repeating its token would loop for ever
            raise CostExplorerError("Cost Explorer returned the same NextPageToken twice")
        seen.add(token)


def group_totals(
    results: list[dict[str, Any]], metric: str = "UnblendedCost"
) -> dict[str, dict[str, float]]:
    """``{group key: {period start: amount}}``; tag keys ``CostCenter$CC-1`` become ``CC-1``."""
    out: dict[str, dict[str, float]] = {}
    for period in results:
        start = (period.get("TimePeriod") or {}).get("Start", "")
        for group in period.get("Groups") or []:
            keys = group.get("Keys") or ["(none)"]
            key = " / ".join(_clean_key(k) for k in keys)
            amount = float(((group.get("Metrics") or {}).get(metric) or {}).get("Amount", 0) or 0)
            row = out.setdefault(key, {})
            row[start] = row.get(start, 0.0) + amount
        if not period.get("Groups"):
            total = float(((period.get("Total") or {}).get(metric) or {}).get("Amount", 0) or 0)
            if total:
                row = out.setdefault("(total)", {})
                row[start] = row.get(start, 0.0) + total
    return out


def _clean_key(key: str) -> str:
    if "$" in key:
        value = key.split("$", 1)[1]
        return value or "(untagged)"
    return key


#: ``--cost-metric`` → (GetCostAndUsage metric, GetCostForecast metric). Amortized spreads
#: Savings Plans and reserved-instance fees over the usage they cover: what finance books.
METRICS = {
    "amortized": ("AmortizedCost", "AMORTIZED_COST"),
    "unblended": ("UnblendedCost", "UNBLENDED_COST"),
}
#: Record types left out unless asked (``--include-credits``): they are not the platform's usage.
EXCLUDED_RECORD_TYPES = ("Credit", "Refund", "Tax")
DAYS_PER_MONTH = 730 / 24


def record_filter(include_credits: bool) -> dict[str, Any] | None:
    """The ``Filter`` that drops credits, refunds and tax by ``RECORD_TYPE`` (``None`` keeps all)."""
    if include_credits:
        return None
    return {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(EXCLUDED_RECORD_TYPES)}}}


@dataclass
class Spend:
    """Daily spend of one grouping over one window of complete days (End exclusive)."""

    start: str
    end: str
    days: int
    rows: dict[str, dict[str, float]]
    estimated_days: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, float]:
        return {k: sum(v.values()) for k, v in self.rows.items()}

    def daily_rate(self) -> dict[str, float]:
        n = max(self.days, 1)
        return {k: v / n for k, v in self.totals().items()}

    def monthly_equivalent(self) -> dict[str, float]:
        """The daily rate over a 730-hour month, the estimate's month."""
        return {k: v * DAYS_PER_MONTH for k, v in self.daily_rate().items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "days": self.days,
            "estimated": bool(self.estimated_days),
            "estimated_days": self.estimated_days,
            "totals": {k: round(v, 2) for k, v in self.totals().items()},
            "daily_rate": {k: round(v, 4) for k, v in self.daily_rate().items()},
            "monthly_equivalent": {k: round(v, 2) for k, v in self.monthly_equivalent().items()},
        }


def compare(before: Spend | None, after: Spend | None) -> list[dict[str, Any]]:
    """Per key: daily rates before and after over the equal windows, and the change."""
    if before is None or after is None:
        return []
    b, a = before.daily_rate(), after.daily_rate()
    rows = []
    for key in sorted(set(b) | set(a), key=lambda k: -max(b.get(k, 0.0), a.get(k, 0.0))):
        rb, ra = b.get(key, 0.0), a.get(key, 0.0)
        rows.append(
            {
                "key": key,
                "before_daily": round(rb, 4),
                "after_daily": round(ra, 4),
                "saving_daily": round(rb - ra, 4),
                "saving_percent": None if rb == 0 else round(100 * (rb - ra) / rb, 2),
            }
        )
    return rows


@dataclass
class Anomaly:
    anomaly_id: str
    start: str
    end: str | None
    dimension: str
    services: list[str]
    total_impact: float
    impact_percent: float | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "anomaly_id": self.anomaly_id,
            "start": self.start,
            "end": self.end,
            "dimension": self.dimension,
            "services": self.services,
            "total_impact": round(self.total_impact, 2),
            "impact_percent": self.impact_percent,
            "score": self.score,
        }


@dataclass
class Actuals:
    """What Cost Explorer said, section by section; ``errors`` holds unavailable sections."""

    since: str
    metric: str = "AmortizedCost"
    excluded_record_types: tuple[str, ...] = EXCLUDED_RECORD_TYPES
    by_service_before: Spend | None = None
    by_service_after: Spend | None = None
    by_tag_before: Spend | None = None
    by_tag_after: Spend | None = None
    by_account_before: Spend | None = None
    by_account_after: Spend | None = None
    account_names: dict[str, str] = field(default_factory=dict)
    tag_key: str = "CostCenter"
    forecast: dict[str, Any] | None = None
    anomalies: list[Anomaly] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def total_change(self) -> dict[str, Any] | None:
        """Daily rate of the whole bill before and after (every service summed)."""
        if self.by_service_before is None or self.by_service_after is None:
            return None
        rb = sum(self.by_service_before.daily_rate().values())
        ra = sum(self.by_service_after.daily_rate().values())
        return {
            "before_daily": round(rb, 4),
            "after_daily": round(ra, 4),
            "saving_daily": round(rb - ra, 4),
            "saving_monthly_equivalent": round((rb - ra) * DAYS_PER_MONTH, 2),
            "saving_percent": None if rb == 0 else round(100 * (rb - ra) / rb, 2),
        }

    def to_dict(self) -> dict[str, Any]:
        def spend(s: Spend | None) -> Any:
            return s.to_dict() if s else None

        def section(before: Spend | None, after: Spend | None) -> dict[str, Any]:
            return {"before": spend(before), "after": spend(after), "rows": compare(before, after)}

        return {
            "since": self.since,
            "metric": self.metric,
            "excluded_record_types": list(self.excluded_record_types),
            "tag_key": self.tag_key,
            "total": self.total_change(),
            "by_service": section(self.by_service_before, self.by_service_after),
            "by_tag": section(self.by_tag_before, self.by_tag_after),
            "by_account": section(self.by_account_before, self.by_account_after),
            "account_names": self.account_names,
            "forecast": self.forecast,
            "anomalies": None if self.anomalies is None else [a.to_dict() for a in self.anomalies],
            "errors": self.errors,
            "requests": self.requests,
            "api_cost_usd": round(self.requests * 0.01, 2),
        }


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods(
    since: dt.date, today: dt.date, max_days: int = 90
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(before, after) windows of equal length in complete days, End exclusive.

    Today is not complete (Cost Explorer is still adding to it), so the after window ends at
    today (exclusive): its length is the complete days since the change, at most ``max_days``,
    and the most recent ones when there are more. The before window is as many days ending the
    day before the change.
    """
    days = max(min((today - since).days, max_days), 0)
    after = (today - dt.timedelta(days=days), today) if days else (since, since)
    before = (since - dt.timedelta(days=days), since)
    return before, after


def _spend(
    client: Any,
    log: CallLog,
    start: dt.date,
    end: dt.date,
    group: dict[str, str],
    metric: str,
    flt: dict[str, Any] | None,
    names: dict[str, str] | None = None,
) -> Spend:
    params: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": [group],
    }
    if flt is not None:
        params["Filter"] = flt
    results = cost_and_usage(client, log, names=names, **params)
    estimated = sorted(
        str((r.get("TimePeriod") or {}).get("Start", "")) for r in results if r.get("Estimated")
    )
    return Spend(
        start.isoformat(),
        end.isoformat(),
        (end - start).days,
        group_totals(results, metric),
        estimated,
    )


def forecast(
    client: Any,
    log: CallLog,
    today: dt.date,
    metric: str = "AmortizedCost",
    flt: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """This month and next: month-to-date actuals (``GetCostAndUsage``) beside the forecast of
    the rest (``GetCostForecast``, which starts today), per month."""
    forecast_metric = next((f for m, f in METRICS.values() if m == metric), "AMORTIZED_COST")
    first, end = month_start(today), add_months(month_start(today), 2)
    actual_to_date = 0.0
    if today > first:
        params: dict[str, Any] = {
            "TimePeriod": {"Start": first.isoformat(), "End": today.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": [metric],
        }
        if flt is not None:
            params["Filter"] = flt
        for period in cost_and_usage(client, log, **params):
            total = ((period.get("Total") or {}).get(metric) or {}).get("Amount", 0)
            actual_to_date += float(total or 0)
    request: dict[str, Any] = {
        "TimePeriod": {"Start": today.isoformat(), "End": end.isoformat()},
        "Metric": forecast_metric,
        "Granularity": "MONTHLY",
    }
    if flt is not None:
        request["Filter"] = flt
    try:
        resp = client.get_cost_forecast(**request)
    except Exception as exc:
        raise CostExplorerError(describe_error(exc, "GetCostForecast")) from None
    log.requests += 1
    total = resp.get("Total") or {}
    months = []
    for r in resp.get("ForecastResultsByTime") or []:
        start = str((r.get("TimePeriod") or {}).get("Start") or "")
        rest = float(r.get("MeanValue", 0) or 0)
        to_date = actual_to_date if start[:7] == today.isoformat()[:7] else 0.0
        months.append(
            {
                "month": start[:7],
                "actual_to_date": round(to_date, 2),
                "forecast_rest": round(rest, 2),
                "expected_total": round(to_date + rest, 2),
                "low": _maybe(r.get("PredictionIntervalLowerBound")),
                "high": _maybe(r.get("PredictionIntervalUpperBound")),
            }
        )
    return {
        "start": today.isoformat(),
        "end": end.isoformat(),
        "metric": forecast_metric,
        "total": round(float(total.get("Amount", 0) or 0), 2),
        "unit": total.get("Unit", "USD"),
        "actual_to_date": round(actual_to_date, 2),
        "months": months,
    }


def _maybe(value: Any) -> float | None:
    return None if value in (None, "") else round(float(value), 2)


def anomalies(client: Any, log: CallLog, start: dt.date, end: dt.date) -> list[Anomaly]:
    """Anomalies detected between ``start`` and ``end`` (``GetAnomalies``, paginated by hand)."""
    out: list[Anomaly] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {
            "DateInterval": {"StartDate": start.isoformat(), "EndDate": end.isoformat()}
        }
        if token:
            params["NextPageToken"] = token
        try:
            resp = client.get_anomalies(**params)
        except Exception as exc:
            raise CostExplorerError(describe_error(exc, "GetAnomalies")) from None
        log.requests += 1
        for item in resp.get("Anomalies") or []:
            impact = item.get("Impact") or {}
            causes = item.get("RootCauses") or []
            out.append(
                Anomaly(
                    anomaly_id=str(item.get("AnomalyId", "")),
                    start=str(item.get("AnomalyStartDate", "")),
                    end=item.get("AnomalyEndDate"),
                    dimension=str(item.get("DimensionValue", "")),
                    services=sorted({c.get("Service", "") for c in causes if c.get("Service")}),
                    total_impact=float(impact.get("TotalImpact", impact.get("MaxImpact", 0)) or 0),
                    impact_percent=impact.get("TotalImpactPercentage"),
                    score=float((item.get("AnomalyScore") or {}).get("MaxScore", 0) or 0),
                )
            )
        token = resp.get("NextPageToken")
        if not token:
            return sorted(out, key=lambda a: -a.total_impact)


def fetch_actuals(
    client: Any,
    *,
    since: dt.date,
    today: dt.date,
    months: int = 3,
    tag_key: str = "CostCenter",
    metric: str = "amortized",
    include_credits: bool = False,
) -> Actuals:
    """Daily spend by service, tag and linked account over equal windows of complete days
    before and after ``since``, the forecast per month and the anomalies.

    ``metric`` is ``amortized`` (the default, what finance books) or ``unblended``; credits,
    refunds and tax are left out by record type unless ``include_credits``. ``GetCostAndUsage``
    failures stop everything (they are the point); forecast and anomaly failures are recorded
    in ``errors`` and the rest is kept.
    """
    if metric not in METRICS:
        raise CostExplorerError(f"unknown cost metric {metric!r} (amortized, unblended)")
    name, _ = METRICS[metric]
    flt = record_filter(include_credits)
    log = CallLog()
    actuals = Actuals(
        since=since.isoformat(),
        metric=name,
        excluded_record_types=() if include_credits else EXCLUDED_RECORD_TYPES,
        tag_key=tag_key,
    )
    (b0, b1), (a0, a1) = periods(since, today, max_days=round(months * 30))
    groups = {
        "service": {"Type": "DIMENSION", "Key": "SERVICE"},
        "tag": {"Type": "TAG", "Key": tag_key},
        "account": {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
    }
    if a1 > a0:
        for side, (start, end) in (("before", (b0, b1)), ("after", (a0, a1))):
            for kind, group in groups.items():
                names = actuals.account_names if kind == "account" else None
                spend = _spend(client, log, start, end, group, name, flt, names)
                setattr(actuals, f"by_{kind}_{side}", spend)
    else:
        actuals.errors["after"] = f"no complete day since {since.isoformat()} yet"
    try:
        actuals.forecast = forecast(client, log, today, name, flt)
    except CostExplorerError as exc:
        actuals.errors["forecast"] = str(exc)
    try:
        start = max(b0, today - dt.timedelta(days=90))  # anomalies are kept 90 days
        actuals.anomalies = anomalies(client, log, start, today)
    except CostExplorerError as exc:
        actuals.errors["anomalies"] = str(exc)
    actuals.requests = log.requests
    return actuals


def make_client(endpoint_url: str | None = None, region: str = "us-east-1") -> Any:
    """A Cost Explorer client, or :class:`CostExplorerError` when no credentials exist."""
    import boto3
    from botocore.config import Config

    session = boto3.Session()
    if session.get_credentials() is None:
        raise CostExplorerError(NO_CREDENTIALS_MESSAGE)
    return session.client(
        "ce",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )
