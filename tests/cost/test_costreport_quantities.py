"""Quantities the FinOps review challenged: ceilings, X-Ray's reservoir, egress, detailed
metrics, NAT traffic with nothing in a subnet."""

from __future__ import annotations

import pytest
from costreport_helpers import cost_of, item, price_body

DAYS = 730 / 24
SHAPE_SUM = 13.06
PEAK_FRACTION = 1.0 / SHAPE_SUM  # the peak hour's share of the day


def _table(max_read: int) -> dict:
    return {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": "payment-transactions",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1000},
                },
            },
            "ReadTarget": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ResourceId": {"Fn::Join": ["", ["table/", {"Ref": "Table"}]]},
                    "ScalableDimension": "dynamodb:table:ReadCapacityUnits",
                    "MinCapacity": 5,
                    "MaxCapacity": max_read,
                },
            },
        }
    }


def test_demand_above_max_capacity_prices_the_ceiling_and_warns() -> None:
    # production: one read per transaction, 10,000 a minute at peak = 166.7 reads a second
    est = price_body(_table(100))
    table = item(est, "Table")
    assert len(table.warnings) == 1
    warning = table.warnings[0]
    assert warning.startswith("demand above max capacity: Read peaks at 167/s")
    assert "MaxCapacity 100; throttling expected, the ceiling is priced" in warning
    # the peak hour is priced at the ceiling, not at the 238 RCU the demand wants
    read = cost_of(est, "Table", "Read capacity")
    unclipped = cost_of(price_body(_table(1000)), "Table", "Read capacity")
    assert read < unclipped
    assert item(price_body(_table(1000)), "Table").warnings == []


def test_xray_records_the_reservoir_then_the_rate() -> None:
    # 1M invocations a month: under one a second in every hour, so every one is traced
    body = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"TracingConfig": {"Mode": "Active"}},
            }
        }
    }
    usage = {"resources": [{"logical_id": "Fn", "usage": {"monthly_requests": 1_000_000}}]}
    traces = [
        c for c in item(price_body(body, usage), "Fn").components if c.name.startswith("X-Ray")
    ]
    assert traces[0].monthly_quantity * 1e6 == pytest.approx(1_000_000)
    # 1e9 a month: every hour is above one a second; 1 a second + 5 % of the rest
    usage["resources"][0]["usage"]["monthly_requests"] = 1_000_000_000
    traces = [
        c for c in item(price_body(body, usage), "Fn").components if c.name.startswith("X-Ray")
    ]
    seconds = DAYS * 24 * 3600
    expected = seconds * 1 + 0.05 * (1_000_000_000 - seconds)
    assert traces[0].monthly_quantity * 1e6 == pytest.approx(expected, rel=1e-9)


def test_api_egress_only_when_no_cloudfront_is_in_front() -> None:
    api = {"Type": "AWS::ApiGateway::RestApi"}
    usage = {"resources": [{"logical_id": "Api", "usage": {"monthly_requests": 1_048_576}}]}
    alone = price_body({"Resources": {"Api": api}}, usage)
    assert cost_of(alone, "Api", "Data transfer out") == pytest.approx(1.0 * 0.09)  # 1 GB
    fronted = {
        "Resources": {
            "Api": api,
            "Cdn": {
                "Type": "AWS::CloudFront::Distribution",
                "Properties": {
                    "DistributionConfig": {
                        "Origins": [
                            {
                                "DomainName": {
                                    "Fn::Sub": "${Api}.execute-api.us-east-1.amazonaws.com"
                                }
                            }
                        ]
                    }
                },
            },
        }
    }
    rows = [c.name for c in item(price_body(fronted, usage), "Api").components]
    assert rows == ["Requests"]


def test_detailed_metrics_are_seven_per_method() -> None:
    body = {
        "Resources": {
            "Api": {"Type": "AWS::ApiGateway::RestApi"},
            "Get": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {"RestApiId": {"Ref": "Api"}, "HttpMethod": "GET"},
            },
            "Post": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {"RestApiId": {"Ref": "Api"}, "HttpMethod": "POST"},
            },
            "Options": {
                "Type": "AWS::ApiGateway::Method",
                "Properties": {"RestApiId": {"Ref": "Api"}, "HttpMethod": "OPTIONS"},
            },
            "Stage": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    "RestApiId": {"Ref": "Api"},
                    "MethodSettings": [
                        {"HttpMethod": "*", "ResourcePath": "/*", "MetricsEnabled": True}
                    ],
                },
            },
        }
    }
    assert cost_of(price_body(body), "Stage", "Detailed CloudWatch metrics") == pytest.approx(
        2 * 7 * 0.30
    )


def test_nat_without_anything_in_a_subnet_carries_no_traffic() -> None:
    est = price_body({"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway"}}})
    assert cost_of(est, "Nat", "Data processed") == 0
    assert any("nothing in the templates runs in a VPC subnet" in n for n in item(est, "Nat").notes)
