"""The Price List API refresher, tested with botocore's Stubber on recorded-shape responses,
and the ``govern prices`` command."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from governance.cli import main
from reports.cost import prices_cli
from reports.cost.catalogue import load_catalogue
from reports.cost.pricing_api import parse_price_item, refresh_catalogue

TODAY = dt.date(2026, 1, 15)


def _item(
    usagetype: str,
    group: str,
    unit: str,
    dims: list[tuple[str, str, str]],
    region: str = "us-east-2",
) -> str:
    """A PriceList entry in the API's shape: a JSON string with product and OnDemand terms."""
    sku = "SKU" + usagetype.replace("-", "")[:10]
    return json.dumps(
        {
            "product": {
                "productFamily": "Serverless",
                "attributes": {
                    "servicecode": "AWSLambda",
                    "regionCode": region,
                    "group": group,
                    "usagetype": usagetype,
                },
                "sku": sku,
            },
            "serviceCode": "AWSLambda",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "offerTermCode": "JRTCKXETXF",
                        "sku": sku,
                        "effectiveDate": "2025-12-01T00:00:00Z",
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.{i}": {
                                "unit": unit,
                                "beginRange": begin,
                                "endRange": end,
                                "pricePerUnit": {"USD": usd},
                                "description": f"tier {i}",
                                "rateCode": f"{sku}.JRTCKXETXF.{i}",
                            }
                            for i, (begin, end, usd) in enumerate(dims)
                        },
                    }
                }
            },
            "version": "20251201000000",
            "publicationDate": "2025-12-01T00:00:00Z",
        }
    )


ARM_DURATION = _item(
    "USE2-Lambda-GB-Second-ARM",
    "AWS-Lambda-Duration-ARM",
    "Lambda-GB-Second",
    [
        ("0", "7500000000", "0.0000133334"),
        ("7500000000", "18750000000", "0.0000120001"),
        ("18750000000", "Inf", "0.0000106667"),
    ],
)
ARM_REQUESTS = _item(
    "USE2-Request-ARM", "AWS-Lambda-Requests-ARM", "Requests", [("0", "Inf", "0.0000002")]
)


def _expected(service: str, region: str, filters: dict[str, str]) -> dict:
    return {
        "ServiceCode": service,
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
        + [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
        "FormatVersion": "aws_v1",
    }


def _client():
    return boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_parse_a_tiered_price_item() -> None:
    attributes, dims = parse_price_item(ARM_DURATION)
    assert attributes["usagetype"] == "USE2-Lambda-GB-Second-ARM"
    assert [(d.begin, d.end, d.usd) for d in dims] == [
        (0.0, 7.5e9, 0.0000133334),
        (7.5e9, 1.875e10, 0.0000120001),
        (1.875e10, None, 0.0000106667),
    ]


def test_refresh_rebuilds_rows_from_get_products() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [ARM_REQUESTS], "NextToken": "more"},
            _expected("AWSLambda", "us-east-2", {"group": "AWS-Lambda-Requests-ARM"}),
        )
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": []},
            {
                **_expected("AWSLambda", "us-east-2", {"group": "AWS-Lambda-Requests-ARM"}),
                "NextToken": "more",
            },
        )
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": [ARM_DURATION]},
            _expected("AWSLambda", "us-east-2", {"group": "AWS-Lambda-Duration-ARM"}),
        )
        stub.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": []},
            _expected("AmazonEC2", "us-east-2", {"productFamily": "NAT Gateway"}),
        )
        data, result = refresh_catalogue(
            load_catalogue(),
            client,
            ["us-east-2"],
            keys=["lambda.requests.arm64", "lambda.duration.arm64", "nat.hours"],
            today=TODAY,
        )
        stub.assert_no_pending_responses()
    assert result.refreshed == [
        ("us-east-2", "lambda.requests.arm64"),
        ("us-east-2", "lambda.duration.arm64"),
    ]
    assert result.missing == [("us-east-2", "nat.hours", "no product matched (0 returned)")]
    assert result.requests == 4
    rows = data["prices"]["us-east-2"]
    assert rows["lambda.requests.arm64"]["usd"] == pytest.approx(0.20)  # $0.0000002 × 1M
    assert rows["lambda.duration.arm64"]["tiers"] == [
        [7.5e9, 0.0000133334],
        [1.125e10, 0.0000120001],
        [None, 0.0000106667],
    ]
    for key in ("lambda.requests.arm64", "lambda.duration.arm64"):
        assert rows[key]["grade"] == "A"
        assert rows[key]["as_of"] == "2026-01-15"
        assert rows[key]["source"].startswith("AWS Price List API")


def test_refreshed_catalogue_is_used_and_no_longer_assumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client()
    stub = Stubber(client)
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [ARM_REQUESTS]},
        _expected("AWSLambda", "us-east-2", {"group": "AWS-Lambda-Requests-ARM"}),
    )
    stub.activate()
    monkeypatch.setattr(prices_cli, "make_client", lambda endpoint=None: client)
    out = tmp_path / "prices.yaml"
    rc = main(
        [
            "prices",
            "refresh",
            "--region",
            "us-east-2",
            "--key",
            "lambda.requests.arm64",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    assert (
        "refreshed 1 prices in 1 region(s) with 1 request(s); 0 not found"
        in capsys.readouterr().out
    )
    catalogue = load_catalogue(out)
    refreshed = catalogue.price("lambda.requests.arm64", "us-east-2")
    assert refreshed is not None and refreshed.assumed_from is None and refreshed.grade == "A"
    other = catalogue.price("nat.hours", "us-east-2")
    assert other is not None and other.assumed_from == "us-east-1"


def test_refresh_without_credentials_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    rc = main(["prices", "refresh", "-o", str(tmp_path / "p.yaml")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.splitlines() == [
        "govern: no AWS credentials: cannot refresh from the AWS Price List API (the embedded catalogue is unchanged)"
    ]
    assert not (tmp_path / "p.yaml").exists()


def test_prices_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices", "show", "--region", "us-east-2"]) == 0
    out = capsys.readouterr().out
    assert "us-east-2" in out and "ASSUMED equal to us-east-1" in out
    assert "[assumed from us-east-1]" in out
    assert main(["prices", "show", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    nat = [r for r in rows if r["key"] == "nat.hours"][0]
    assert nat["tiers"] == [[None, 0.045]] and nat["grade"] == "A" and nat["as_of"] == "2024-07-01"
    assert main(["prices", "show", "--region", "eu-north-1"]) == 2


def _instance_item(service: str, usagetype: str, attributes: dict, usd: str) -> str:
    """An EC2 or RDS PriceList entry in the API's shape (one on-demand hourly dimension)."""
    sku = "SKU" + usagetype.replace(":", "").replace(".", "")[-12:]
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance"
                if service == "AmazonEC2"
                else "Database Instance",
                "attributes": {"servicecode": service, "usagetype": usagetype, **attributes},
                "sku": sku,
            },
            "serviceCode": service,
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "beginRange": "0",
                                "endRange": "Inf",
                                "pricePerUnit": {"USD": usd},
                                "description": "on-demand hour",
                            }
                        }
                    }
                }
            },
        }
    )


def test_refresh_fills_instance_families_from_get_products(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`govern prices refresh --instance-family t3 --db-instance-family r6g` adds a row for every
    size the Price List returns (the values here are the response's, not list prices), each
    with its source, date, grade and the filters a later refresh uses; other families and the
    licence-fee engines are left out."""
    from reports.cost.pricing_api import EC2_INSTANCE_FILTERS, RDS_INSTANCE_FILTERS

    client = _client()
    stub = Stubber(client)
    ec2_items = [
        _instance_item(
            "AmazonEC2", "USE2-BoxUsage:t3.medium", {"instanceType": "t3.medium"}, "0.1"
        ),
        _instance_item("AmazonEC2", "USE2-BoxUsage:t3.large", {"instanceType": "t3.large"}, "0.2"),
        _instance_item("AmazonEC2", "USE2-BoxUsage:m5.large", {"instanceType": "m5.large"}, "0.3"),
    ]
    rds_items = [
        _instance_item(
            "AmazonRDS",
            "USE2-InstanceUsage:db.r6g.large",
            {"instanceType": "db.r6g.large", "databaseEngine": "PostgreSQL"},
            "0.4",
        ),
        _instance_item(
            "AmazonRDS",
            "USE2-InstanceUsage:db.r6g.large",
            {"instanceType": "db.r6g.large", "databaseEngine": "Oracle"},
            "0.9",
        ),
    ]
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": ec2_items},
        _expected("AmazonEC2", "us-east-2", EC2_INSTANCE_FILTERS),
    )
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": rds_items},
        _expected("AmazonRDS", "us-east-2", RDS_INSTANCE_FILTERS),
    )
    stub.activate()
    monkeypatch.setattr(prices_cli, "make_client", lambda endpoint=None: client)
    out = tmp_path / "prices.yaml"
    argv = ["prices", "refresh", "--region", "us-east-2", "-o", str(out)]
    argv += ["--instance-family", "t3", "--db-instance-family", "r6g"]
    assert main(argv) == 0
    stub.assert_no_pending_responses()
    printed = capsys.readouterr().out
    assert printed.startswith("refreshed 3 prices in 1 region(s) with 2 request(s); 0 not found")
    catalogue = load_catalogue(str(out))
    for key, usd in (
        ("ec2.instance.t3.medium", 0.1),
        ("ec2.instance.t3.large", 0.2),
        ("rds.postgres.db.r6g.large", 0.4),
    ):
        price = catalogue.price(key, "us-east-2")
        assert price is not None and price.usd == pytest.approx(usd), key
        assert price.grade == "A" and price.source.startswith("AWS Price List API")
        assert price.assumed_from is None
    assert catalogue.price("ec2.instance.m5.large", "us-east-2").assumed_from == "us-east-1"
    assert catalogue.price("rds.oracle-ee.db.r6g.large", "us-east-2") is None
    raw = yaml.safe_load(out.read_text())["prices"]["us-east-2"]["ec2.instance.t3.medium"]
    assert raw["price_list"]["filters"]["instanceType"] == "t3.medium"
    assert re.search(raw["price_list"]["usagetype"], "USE2-BoxUsage:t3.medium")


def test_refreshed_instance_row_drops_the_old_sources_check() -> None:
    """A shipped row keeps the figure its source recorded (``check``); once the Price List API
    has replaced the price, that figure is stale, so the refreshed row no longer carries it."""
    shipped = load_catalogue().data["prices"]["us-east-1"]["ec2.instance.m6i.large"]
    assert "check" in shipped
    spec = shipped["price_list"]
    client = _client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_products",
            {
                "FormatVersion": "aws_v1",
                "PriceList": [
                    _instance_item(
                        "AmazonEC2",
                        "USE2-BoxUsage:m6i.large",
                        {"instanceType": "m6i.large"},
                        "0.5",
                    )
                ],
            },
            _expected("AmazonEC2", "us-east-2", spec["filters"]),
        )
        data, result = refresh_catalogue(
            load_catalogue(), client, ["us-east-2"], keys=["ec2.instance.m6i.large"], today=TODAY
        )
        stub.assert_no_pending_responses()
    assert result.refreshed == [("us-east-2", "ec2.instance.m6i.large")]
    row = data["prices"]["us-east-2"]["ec2.instance.m6i.large"]
    assert row["usd"] == pytest.approx(0.5) and row["as_of"] == "2026-01-15"
    assert "check" not in row
