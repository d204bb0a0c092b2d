"""Cost Explorer: GetCostAndUsage through a real boto3 client against a moto server (with two
pages), forecast and anomalies through botocore's Stubber (moto lacks them), error messages,
and the command without credentials."""

from __future__ import annotations

import datetime as dt
import json
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from governance.cli import main
from reports.cost.cost_explorer import (
    NO_CREDENTIALS_MESSAGE,
    CallLog,
    CostExplorerError,
    anomalies,
    cost_and_usage,
    fetch_actuals,
    forecast,
    group_totals,
    periods,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def ce(moto_endpoint: str):
    _post(f"{moto_endpoint}/moto-api/reset", {})
    return boto3.client(
        "ce",
        region_name="us-east-1",
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _post(url: str, body: dict) -> int:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - 127.0.0.1 only
        return resp.status


def _inject(endpoint: str, results: list[dict]) -> None:
    status = _post(f"{endpoint}/moto-api/static/ce/cost-and-usage-results", {"results": results})
    assert status == 201


def _period(start: str, end: str, groups: dict[str, str], key: str = "SERVICE") -> dict:
    return {
        "TimePeriod": {"Start": start, "End": end},
        "Total": {},
        "Groups": [
            {"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": v, "Unit": "USD"}}}
            for k, v in groups.items()
        ],
        "Estimated": False,
    }


def _result(
    periods_: list[dict], token: str | None = None, key: str = "SERVICE", kind: str = "DIMENSION"
) -> dict:
    out = {
        "ResultsByTime": periods_,
        "GroupDefinitions": [{"Type": kind, "Key": key}],
        "DimensionValueAttributes": [],
    }
    if token:
        out["NextPageToken"] = token
    return out


def test_get_cost_and_usage_follows_next_page_token(ce, moto_endpoint: str) -> None:
    _inject(
        moto_endpoint,
        [
            _result(
                [
                    _period(
                        "2025-01-01",
                        "2025-02-01",
                        {"AWS Lambda": "700.50", "Amazon DynamoDB": "1300"},
                    ),
                    _period(
                        "2025-02-01", "2025-03-01", {"AWS Lambda": "411", "Amazon DynamoDB": "1350"}
                    ),
                ],
                token="page-2",
            ),
            _result(
                [
                    _period(
                        "2025-03-01", "2025-04-01", {"AWS Lambda": "300", "EC2 - Other": "525.60"}
                    )
                ]
            ),
        ],
    )
    log = CallLog()
    results = cost_and_usage(
        ce,
        log,
        TimePeriod={"Start": "2025-01-01", "End": "2025-04-01"},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    assert log.requests == 2
    assert [r["TimePeriod"]["Start"] for r in results] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    totals = {k: sum(v.values()) for k, v in group_totals(results).items()}
    assert totals == {
        "AWS Lambda": pytest.approx(1411.5),
        "Amazon DynamoDB": 2650.0,
        "EC2 - Other": 525.6,
    }
    assert ce.can_paginate("get_cost_and_usage") is False


def _days(start: str, count: int, groups: dict[str, str], metric: str = "AmortizedCost") -> list:
    """``count`` daily periods from ``start``, each with the same groups."""
    first = dt.date.fromisoformat(start)
    out = []
    for i in range(count):
        day = first + dt.timedelta(days=i)
        period = _period(day.isoformat(), (day + dt.timedelta(days=1)).isoformat(), groups)
        for g in period["Groups"]:
            g["Metrics"] = {metric: g["Metrics"]["UnblendedCost"]}
        out.append(period)
    return out


def test_fetch_actuals_against_moto_keeps_going_when_forecast_is_missing(
    ce, moto_endpoint: str
) -> None:
    """Equal windows of complete days (10 before 2025-03-01, 10 after, today excluded), daily
    rates by service, tag and linked account; moto lacks the forecast and the anomalies."""
    tag, acct = ("TAG", "CostCenter"), ("DIMENSION", "LINKED_ACCOUNT")
    _inject(
        moto_endpoint,
        [
            _result(_days("2025-02-19", 10, {"AWS Lambda": "80"})),
            _result(
                _days("2025-02-19", 10, {"CostCenter$CC-1001": "75", "CostCenter$": "5"}),
                key=tag[1],
                kind=tag[0],
            ),
            _result(_days("2025-02-19", 10, {"333333333333": "80"}), key=acct[1]),
            _result(_days("2025-03-01", 10, {"AWS Lambda": "50"})),
            _result(_days("2025-03-01", 10, {"CostCenter$CC-1001": "50"}), key=tag[1], kind=tag[0]),
            _result(_days("2025-03-01", 10, {"333333333333": "50"}), key=acct[1]),
        ],
    )
    actuals = fetch_actuals(ce, since=dt.date(2025, 3, 1), today=dt.date(2025, 3, 11), months=2)
    assert actuals.metric == "AmortizedCost"
    before, after = actuals.by_service_before, actuals.by_service_after
    assert (before.start, before.end, before.days) == ("2025-02-19", "2025-03-01", 10)
    assert (after.start, after.end, after.days) == ("2025-03-01", "2025-03-11", 10)
    assert before.daily_rate() == {"AWS Lambda": 80.0}
    assert after.daily_rate() == {"AWS Lambda": 50.0}
    assert actuals.by_tag_before.totals() == {"CC-1001": 750.0, "(untagged)": 50.0}
    assert actuals.by_account_after.daily_rate() == {"333333333333": 50.0}
    assert actuals.total_change()["saving_percent"] == pytest.approx(37.5)
    # moto has no GetCostForecast / GetAnomalies: each section says so, the rest is kept
    assert set(actuals.errors) == {"forecast", "anomalies"}
    assert actuals.errors["forecast"].startswith("Cost Explorer GetCostForecast failed")
    assert actuals.requests == 7  # six windows and the month to date


@pytest.mark.parametrize(
    ("since", "today", "before", "after"),
    [
        # the issue's example: 56 complete days after the change, as many before it
        ("2025-03-15", "2025-05-10", ("2025-01-18", "2025-03-15"), ("2025-03-15", "2025-05-10")),
        # more than 90 days since: the most recent 90, and the 90 before the change
        ("2025-01-01", "2025-06-01", ("2024-10-03", "2025-01-01"), ("2025-03-03", "2025-06-01")),
        # the change is today: nothing complete yet
        ("2025-05-10", "2025-05-10", ("2025-05-10", "2025-05-10"), ("2025-05-10", "2025-05-10")),
    ],
)
def test_windows_are_equal_and_complete(since: str, today: str, before, after) -> None:
    got = periods(dt.date.fromisoformat(since), dt.date.fromisoformat(today), max_days=90)
    assert tuple(tuple(d.isoformat() for d in w) for w in got) == (before, after)
    assert (got[0][1] - got[0][0]) == (got[1][1] - got[1][0])


def _flat_page(start: dt.date, end: dt.date, key: str, per_day: float, metric: str) -> dict:
    days = []
    day = start
    while day < end:
        days.append(
            {
                "TimePeriod": {
                    "Start": day.isoformat(),
                    "End": (day + dt.timedelta(1)).isoformat(),
                },
                "Total": {},
                "Groups": [
                    {"Keys": [key], "Metrics": {metric: {"Amount": str(per_day), "Unit": "USD"}}}
                ],
                "Estimated": day >= dt.date(2025, 5, 1),  # May is still open on 2025-05-10
            }
        )
        day += dt.timedelta(1)
    return {"ResultsByTime": days, "DimensionValueAttributes": []}


def test_flat_spend_shows_no_saving_the_issue_example() -> None:
    """A flat $100 a day, a change on 2025-03-15, a run on 2025-05-10: 0 % (month averages of
    partial, unequal windows showed 28 %). Amortized cost, credits/refunds/tax left out, and
    the open month's days marked estimated; every request checked by the Stubber."""
    client = _stub_client()
    flt = {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund", "Tax"]}}}
    windows = [
        (dt.date(2025, 1, 18), dt.date(2025, 3, 15)),
        (dt.date(2025, 3, 15), dt.date(2025, 5, 10)),
    ]
    groups = [
        ({"Type": "DIMENSION", "Key": "SERVICE"}, "AWS Lambda"),
        ({"Type": "TAG", "Key": "CostCenter"}, "CostCenter$CC-1001"),
        ({"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, "333333333333"),
    ]
    with Stubber(client) as stub:
        for start, end in windows:
            for group, key in groups:
                page = _flat_page(start, end, key, 100.0, "AmortizedCost")
                if group["Key"] == "LINKED_ACCOUNT":
                    page["DimensionValueAttributes"] = [
                        {"Value": key, "Attributes": {"description": "payments-production"}}
                    ]
                stub.add_response(
                    "get_cost_and_usage",
                    page,
                    {
                        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                        "Granularity": "DAILY",
                        "Metrics": ["AmortizedCost"],
                        "GroupBy": [group],
                        "Filter": flt,
                    },
                )
        stub.add_response(
            "get_cost_and_usage",
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {"Start": "2025-05-01", "End": "2025-05-10"},
                        "Total": {"AmortizedCost": {"Amount": "900", "Unit": "USD"}},
                        "Groups": [],
                        "Estimated": True,
                    }
                ],
                "DimensionValueAttributes": [],
            },
            {
                "TimePeriod": {"Start": "2025-05-01", "End": "2025-05-10"},
                "Granularity": "MONTHLY",
                "Metrics": ["AmortizedCost"],
                "Filter": flt,
            },
        )
        stub.add_response(
            "get_cost_forecast",
            {
                "Total": {"Amount": "5300", "Unit": "USD"},
                "ForecastResultsByTime": [
                    {
                        "TimePeriod": {"Start": "2025-05-10", "End": "2025-06-01"},
                        "MeanValue": "2200",
                    },
                    {
                        "TimePeriod": {"Start": "2025-06-01", "End": "2025-07-01"},
                        "MeanValue": "3100",
                    },
                ],
            },
            {
                "TimePeriod": {"Start": "2025-05-10", "End": "2025-07-01"},
                "Metric": "AMORTIZED_COST",
                "Granularity": "MONTHLY",
                "Filter": flt,
            },
        )
        stub.add_response(
            "get_anomalies",
            {"Anomalies": []},
            {"DateInterval": {"StartDate": "2025-02-09", "EndDate": "2025-05-10"}},
        )
        actuals = fetch_actuals(client, since=dt.date(2025, 3, 15), today=dt.date(2025, 5, 10))
        stub.assert_no_pending_responses()
    assert actuals.by_service_before.days == actuals.by_service_after.days == 56
    assert actuals.total_change()["saving_percent"] == 0.0
    assert actuals.by_service_after.daily_rate() == {"AWS Lambda": 100.0}
    assert actuals.by_service_before.estimated_days == []
    assert actuals.by_service_after.estimated_days[0] == "2025-05-01"
    assert len(actuals.by_service_after.estimated_days) == 9
    assert actuals.account_names == {"333333333333": "payments-production"}
    assert actuals.forecast["months"][0] == {
        "month": "2025-05",
        "actual_to_date": 900.0,
        "forecast_rest": 2200.0,
        "expected_total": 3100.0,
        "low": None,
        "high": None,
    }
    assert actuals.forecast["months"][1]["actual_to_date"] == 0.0
    assert actuals.forecast["months"][1]["expected_total"] == 3100.0


def test_unblended_with_credits_on_request() -> None:
    client = _stub_client()
    with Stubber(client) as stub:
        for start, end in (("2025-02-22", "2025-03-01"), ("2025-03-01", "2025-03-08")):
            for group in ("SERVICE", "CostCenter", "LINKED_ACCOUNT"):
                stub.add_response(
                    "get_cost_and_usage",
                    {"ResultsByTime": [], "DimensionValueAttributes": []},
                    {
                        "TimePeriod": {"Start": start, "End": end},
                        "Granularity": "DAILY",
                        "Metrics": ["UnblendedCost"],
                        "GroupBy": [
                            {"Type": "TAG" if group == "CostCenter" else "DIMENSION", "Key": group}
                        ],
                    },
                )
        stub.add_response(
            "get_cost_and_usage",
            {"ResultsByTime": [], "DimensionValueAttributes": []},
            {
                "TimePeriod": {"Start": "2025-03-01", "End": "2025-03-08"},
                "Granularity": "MONTHLY",
                "Metrics": ["UnblendedCost"],
            },
        )
        stub.add_client_error("get_cost_forecast", service_error_code="DataUnavailableException")
        stub.add_response("get_anomalies", {"Anomalies": []})
        actuals = fetch_actuals(
            client,
            since=dt.date(2025, 3, 1),
            today=dt.date(2025, 3, 8),
            metric="unblended",
            include_credits=True,
        )
    sides = [(s, k) for s in ("before", "after") for k in ("service", "tag", "account")]
    assert all(getattr(actuals, f"by_{k}_{s}") is not None for s, k in sides)
    assert actuals.metric == "UnblendedCost" and actuals.excluded_record_types == ()
    assert (
        actuals.errors["forecast"] == "Cost Explorer has no data for GetCostForecast in that period"
    )


def _stub_client():
    return boto3.client(
        "ce", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def test_forecast_through_stubber() -> None:
    client = _stub_client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_cost_forecast",
            {
                "Total": {"Amount": "1234.56", "Unit": "USD"},
                "ForecastResultsByTime": [
                    {
                        "TimePeriod": {"Start": "2025-04-01", "End": "2025-05-01"},
                        "MeanValue": "600.10",
                        "PredictionIntervalLowerBound": "550",
                        "PredictionIntervalUpperBound": "650",
                    }
                ],
            },
            {
                "TimePeriod": {"Start": "2025-04-01", "End": "2025-06-01"},
                "Metric": "UNBLENDED_COST",
                "Granularity": "MONTHLY",
            },
        )
        log = CallLog()
        got = forecast(client, log, dt.date(2025, 4, 1), metric="UnblendedCost")
    assert got["total"] == 1234.56
    assert got["months"] == [
        {
            "month": "2025-04",
            "actual_to_date": 0.0,  # the first of the month: nothing to date, no request
            "forecast_rest": 600.1,
            "expected_total": 600.1,
            "low": 550.0,
            "high": 650.0,
        }
    ]
    assert log.requests == 1


def _anomaly(anomaly_id: str, service: str, impact: float) -> dict:
    return {
        "AnomalyId": anomaly_id,
        "AnomalyStartDate": "2025-03-02",
        "AnomalyEndDate": "2025-03-04",
        "DimensionValue": service,
        "RootCauses": [{"Service": service, "Region": "us-east-1"}],
        "AnomalyScore": {"MaxScore": 0.9, "CurrentScore": 0.4},
        "Impact": {"MaxImpact": impact / 2, "TotalImpact": impact, "TotalImpactPercentage": 35.0},
        "MonitorArn": "arn:aws:ce::123456789012:anomalymonitor/abc",
    }


def test_anomalies_through_stubber_with_two_pages() -> None:
    client = _stub_client()
    interval = {"StartDate": "2025-01-01", "EndDate": "2025-04-01"}
    with Stubber(client) as stub:
        stub.add_response(
            "get_anomalies",
            {"Anomalies": [_anomaly("a1", "AWS Lambda", 120.0)], "NextPageToken": "next"},
            {"DateInterval": interval},
        )
        stub.add_response(
            "get_anomalies",
            {"Anomalies": [_anomaly("a2", "Amazon DynamoDB", 300.0)]},
            {"DateInterval": interval, "NextPageToken": "next"},
        )
        log = CallLog()
        got = anomalies(client, log, dt.date(2025, 1, 1), dt.date(2025, 4, 1))
    assert [(a.anomaly_id, a.services, a.total_impact) for a in got] == [
        ("a2", ["Amazon DynamoDB"], 300.0),
        ("a1", ["AWS Lambda"], 120.0),
    ]
    assert log.requests == 2


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "ThrottlingException",
            "Cost Explorer throttled GetCostAndUsage (ThrottlingException); wait a minute and retry",
        ),
        (
            "LimitExceededException",
            "Cost Explorer throttled GetCostAndUsage (LimitExceededException)",
        ),
        (
            "AccessDeniedException",
            "access denied to Cost Explorer GetCostAndUsage (AccessDeniedException): the credentials need ce:GetCostAndUsage",
        ),
    ],
)
def test_throttling_and_access_denied_are_one_clear_line(code: str, expected: str) -> None:
    client = _stub_client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_cost_and_usage",
            service_error_code=code,
            service_message="nope",
            http_status_code=400,
        )
        with pytest.raises(CostExplorerError) as info:
            cost_and_usage(
                client,
                TimePeriod={"Start": "2025-01-01", "End": "2025-02-01"},
                Granularity="MONTHLY",
                Metrics=["UnblendedCost"],
            )
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message and "Traceback" not in message


def _isolate_from_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)


def test_without_credentials_the_estimate_is_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _isolate_from_credentials(monkeypatch, tmp_path)
    out = tmp_path / "cost.json"
    rc = main(
        [
            "report",
            "cost",
            "--after",
            str(_template(tmp_path)),
            "--cost-explorer",
            "--since",
            "2025-03-01",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 0
    assert err.strip().splitlines() == [f"govern: {NO_CREDENTIALS_MESSAGE}"]
    data = json.loads(out.read_text())
    assert data["cost_explorer"] == {"status": NO_CREDENTIALS_MESSAGE, "data": None}
    assert data["totals"]["after"] > 0


def _template(tmp_path: Path) -> Path:
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway"}}}))
    return path


def test_report_with_cost_explorer_from_moto(
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command end to end against moto: 5 complete days on each side of 2025-02-01 (the
    run is on 2025-02-06), three linked accounts told apart, the page shows daily rates."""
    _post(f"{moto_endpoint}/moto-api/reset", {})
    acct = "LINKED_ACCOUNT"
    _inject(
        moto_endpoint,
        [
            _result(_days("2025-01-27", 5, {"AWS Lambda": "80", "AWS Shield": "100"})),
            _result(
                _days("2025-01-27", 5, {"CostCenter$CC-1001": "180"}), key="CostCenter", kind="TAG"
            ),
            _result(
                _days(
                    "2025-01-27",
                    5,
                    {"111111111111": "2", "222222222222": "8", "333333333333": "170"},
                ),
                key=acct,
            ),
            _result(_days("2025-02-01", 5, {"AWS Lambda": "13", "AWS Shield": "100"})),
            _result(
                _days("2025-02-01", 5, {"CostCenter$CC-1001": "113"}), key="CostCenter", kind="TAG"
            ),
            _result(
                _days(
                    "2025-02-01",
                    5,
                    {"111111111111": "1", "222222222222": "2", "333333333333": "110"},
                ),
                key=acct,
            ),
        ],
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    html, js = tmp_path / "cost.html", tmp_path / "cost.json"
    rc = main(
        [
            "report",
            "cost",
            "--after",
            str(_template(tmp_path)),
            "--cost-explorer",
            "--since",
            "2025-02-01",
            "--today",
            "2025-02-06",
            "--ce-endpoint-url",
            moto_endpoint,
            "-o",
            str(html),
            "-o",
            str(js),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 0
    ce = json.loads(js.read_text())["cost_explorer"]
    assert ce["status"] == "from Cost Explorer"
    data = ce["data"]
    assert data["metric"] == "AmortizedCost"
    assert data["excluded_record_types"] == ["Credit", "Refund", "Tax"]
    assert data["by_service"]["before"]["daily_rate"] == {"AWS Lambda": 80.0, "AWS Shield": 100.0}
    assert data["by_service"]["after"]["daily_rate"] == {"AWS Lambda": 13.0, "AWS Shield": 100.0}
    accounts = {r["key"]: r["saving_daily"] for r in data["by_account"]["rows"]}
    assert accounts == {"333333333333": 60.0, "222222222222": 6.0, "111111111111": 1.0}
    assert data["total"]["saving_daily"] == 67.0
    assert "Cost Explorer forecast unavailable" in err  # moto has no GetCostForecast
    page = html.read_text()
    assert 'id="table-ce-services"' in page and 'id="table-ce-accounts"' in page
    assert "$80.00" in page and "$13.00" in page and "5 complete days" in page
