"""Actual spend from AWS Cost Explorer, beside the estimate.

* :func:`cost_and_usage` calls ``GetCostAndUsage`` and follows ``NextPageToken`` by hand (the
  API has no paginator; every page is a billed request).
* :func:`fetch_actuals` gets monthly spend by ``SERVICE`` and by the cost-allocation tag (default
  ``CostCenter``) for the months before and after a date, the forecast (``GetCostForecast``) and
  the anomalies (``GetAnomalies``, also paginated by hand).
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


def cost_and_usage(client: Any, log: CallLog | None = None, **params: Any) -> list[dict[str, Any]]:
    """Every ``ResultsByTime`` entry of a ``GetCostAndUsage`` query, across all pages."""
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


@dataclass
class Spend:
    """Monthly spend of one grouping for one period."""

    start: str
    end: str
    months: list[str]
    rows: dict[str, dict[str, float]]

    def totals(self) -> dict[str, float]:
        return {k: sum(v.values()) for k, v in self.rows.items()}

    def monthly_average(self) -> dict[str, float]:
        n = max(len(self.months), 1)
        return {k: v / n for k, v in self.totals().items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "months": self.months,
            "rows": {k: {m: round(a, 2) for m, a in v.items()} for k, v in self.rows.items()},
            "totals": {k: round(v, 2) for k, v in self.totals().items()},
            "monthly_average": {k: round(v, 2) for k, v in self.monthly_average().items()},
        }


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
    by_service_before: Spend | None = None
    by_service_after: Spend | None = None
    by_tag_before: Spend | None = None
    by_tag_after: Spend | None = None
    tag_key: str = "CostCenter"
    forecast: dict[str, Any] | None = None
    anomalies: list[Anomaly] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        def spend(s: Spend | None) -> Any:
            return s.to_dict() if s else None

        return {
            "since": self.since,
            "tag_key": self.tag_key,
            "by_service": {
                "before": spend(self.by_service_before),
                "after": spend(self.by_service_after),
            },
            "by_tag": {"before": spend(self.by_tag_before), "after": spend(self.by_tag_after)},
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
    since: dt.date, today: dt.date, months: int
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(before, after) periods, End exclusive: ``months`` whole months before ``since``, and
    from ``since`` to today (at most ``months`` months)."""
    before = (add_months(month_start(since), -months), since)
    after_end = min(today, add_months(month_start(since), months + 1))
    return before, (since, max(after_end, since))


def _spend(client: Any, log: CallLog, start: dt.date, end: dt.date, group: dict[str, str]) -> Spend:
    results = cost_and_usage(
        client,
        log,
        TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[group],
    )
    months = [((r.get("TimePeriod") or {}).get("Start", "")) for r in results]
    return Spend(start.isoformat(), end.isoformat(), months, group_totals(results))


def forecast(client: Any, log: CallLog, today: dt.date) -> dict[str, Any]:
    """Forecast from today to the end of next month (``GetCostForecast``)."""
    end = add_months(month_start(today), 2)
    try:
        resp = client.get_cost_forecast(
            TimePeriod={"Start": today.isoformat(), "End": end.isoformat()},
            Metric="UNBLENDED_COST",
            Granularity="MONTHLY",
        )
    except Exception as exc:
        raise CostExplorerError(describe_error(exc, "GetCostForecast")) from None
    log.requests += 1
    total = resp.get("Total") or {}
    return {
        "start": today.isoformat(),
        "end": end.isoformat(),
        "total": round(float(total.get("Amount", 0) or 0), 2),
        "unit": total.get("Unit", "USD"),
        "months": [
            {
                "start": (r.get("TimePeriod") or {}).get("Start"),
                "mean": round(float(r.get("MeanValue", 0) or 0), 2),
                "low": _maybe(r.get("PredictionIntervalLowerBound")),
                "high": _maybe(r.get("PredictionIntervalUpperBound")),
            }
            for r in resp.get("ForecastResultsByTime") or []
        ],
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
) -> Actuals:
    """Spend by service and tag before/after ``since``, the forecast and the anomalies.

    ``GetCostAndUsage`` failures stop everything (they are the point); forecast and anomaly
    failures are recorded in ``errors`` and the rest is kept.
    """
    log = CallLog()
    actuals = Actuals(since=since.isoformat(), tag_key=tag_key)
    (b0, b1), (a0, a1) = periods(since, today, months)
    service = {"Type": "DIMENSION", "Key": "SERVICE"}
    tag = {"Type": "TAG", "Key": tag_key}
    actuals.by_service_before = _spend(client, log, b0, b1, service)
    actuals.by_tag_before = _spend(client, log, b0, b1, tag)
    if a1 > a0:
        actuals.by_service_after = _spend(client, log, a0, a1, service)
        actuals.by_tag_after = _spend(client, log, a0, a1, tag)
    else:
        actuals.errors["after"] = f"no complete day since {since.isoformat()} yet"
    try:
        actuals.forecast = forecast(client, log, today)
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
