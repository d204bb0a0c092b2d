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


def test_fetch_actuals_against_moto_keeps_going_when_forecast_is_missing(
    ce, moto_endpoint: str
) -> None:
    _inject(
        moto_endpoint,
        [
            _result(
                [
                    _period("2025-01-01", "2025-02-01", {"AWS Lambda": "2400"}),
                    _period("2025-02-01", "2025-03-01", {"AWS Lambda": "2420"}),
                ]
            ),
            _result(
                [
                    _period(
                        "2025-01-01",
                        "2025-02-01",
                        {"CostCenter$CC-1001": "8000", "CostCenter$": "12"},
                    )
                ],
                key="CostCenter",
                kind="TAG",
            ),
            _result([_period("2025-03-01", "2025-04-01", {"AWS Lambda": "380"})]),
            _result(
                [_period("2025-03-01", "2025-04-01", {"CostCenter$CC-1001": "5900"})],
                key="CostCenter",
                kind="TAG",
            ),
        ],
    )
    actuals = fetch_actuals(ce, since=dt.date(2025, 3, 1), today=dt.date(2025, 4, 1), months=2)
    assert actuals.by_service_before.totals() == {"AWS Lambda": 4820.0}
    assert actuals.by_service_before.monthly_average() == {"AWS Lambda": 2410.0}
    assert actuals.by_tag_before.totals() == {"CC-1001": 8000.0, "(untagged)": 12.0}
    assert actuals.by_service_after.totals() == {"AWS Lambda": 380.0}
    assert actuals.by_tag_after.totals() == {"CC-1001": 5900.0}
    # moto has no GetCostForecast / GetAnomalies: each section says so, the rest is kept
    assert set(actuals.errors) == {"forecast", "anomalies"}
    assert actuals.errors["forecast"].startswith("Cost Explorer GetCostForecast failed")
    assert actuals.requests == 4


def test_periods_before_and_after_the_change() -> None:
    before, after = periods(dt.date(2025, 3, 15), dt.date(2025, 5, 2), months=3)
    assert before == (dt.date(2024, 12, 1), dt.date(2025, 3, 15))
    assert after == (dt.date(2025, 3, 15), dt.date(2025, 5, 2))


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
                        "TimePeriod": {"Start": "2025-04-10", "End": "2025-05-01"},
                        "MeanValue": "600.10",
                        "PredictionIntervalLowerBound": "550",
                        "PredictionIntervalUpperBound": "650",
                    }
                ],
            },
            {
                "TimePeriod": {"Start": "2025-04-10", "End": "2025-06-01"},
                "Metric": "UNBLENDED_COST",
                "Granularity": "MONTHLY",
            },
        )
        log = CallLog()
        got = forecast(client, log, dt.date(2025, 4, 10))
    assert got["total"] == 1234.56
    assert got["months"] == [{"start": "2025-04-10", "mean": 600.1, "low": 550.0, "high": 650.0}]
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
    _post(f"{moto_endpoint}/moto-api/reset", {})
    _inject(
        moto_endpoint,
        [
            _result(
                [_period("2025-01-01", "2025-02-01", {"AWS Lambda": "2400", "AWS Shield": "3000"})]
            ),
            _result(
                [_period("2025-01-01", "2025-02-01", {"CostCenter$CC-1001": "5400"})],
                key="CostCenter",
                kind="TAG",
            ),
            _result(
                [_period("2025-02-01", "2025-03-01", {"AWS Lambda": "390", "AWS Shield": "3000"})]
            ),
            _result(
                [_period("2025-02-01", "2025-03-01", {"CostCenter$CC-1001": "3390"})],
                key="CostCenter",
                kind="TAG",
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
            "--months",
            "1",
            "--today",
            "2025-03-01",
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
    assert ce["data"]["by_service"]["before"]["totals"] == {
        "AWS Lambda": 2400.0,
        "AWS Shield": 3000.0,
    }
    assert ce["data"]["by_service"]["after"]["totals"] == {
        "AWS Lambda": 390.0,
        "AWS Shield": 3000.0,
    }
    assert ce["data"]["by_tag"]["after"]["totals"] == {"CC-1001": 3390.0}
    assert "Cost Explorer forecast unavailable" in err  # moto has no GetCostForecast
    page = html.read_text()
    assert 'id="table-ce-services"' in page and "$2,400.00" in page and "$390.00" in page
