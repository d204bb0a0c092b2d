"""Figures checked by hand against the price catalogue (and the reference's worked examples).

Each expected number below is written out from the catalogue's unit prices, not taken from the
model, so a wrong formula in a pricer fails here even when its golden file was regenerated.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from costreport_helpers import cost_of, item, price_body

# us-east-1 list prices from reports/cost/prices.yaml (and cost-facts.md)
LAMBDA_REQ = 0.20  # per 1M
X86_GBS = 0.0000166667
ARM_GBS = [0.0000133334, 0.0000120001, 0.0000106667]  # tiers 7.5B, 11.25B, rest
X86_TIER1 = 6_000_000_000
GOLDEN = Path(__file__).with_name("golden")


def _fn(
    memory: int,
    arch: str,
    requests: float,
    duration_ms: float,
    cpu_bound_share: float = 0.0,
    **extra,
) -> dict:
    """A function priced with the stated duration whatever its memory (cost-facts' illustrations
    assume that), unless ``cpu_bound_share`` says how much of it is CPU-bound."""
    return {
        "template": {
            "Resources": {
                "Fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"MemorySize": memory, "Architectures": [arch], **extra},
                }
            }
        },
        "usage": {
            "resources": [
                {
                    "logical_id": "Fn",
                    "usage": {
                        "monthly_requests": requests,
                        "request_duration_ms": duration_ms,
                        "log_kb_per_request": 0,
                        "cpu_bound_share": cpu_bound_share,
                    },
                }
            ]
        },
    }


def test_lambda_gb_seconds_arithmetic() -> None:
    # 1M requests × 0.2 s × 1 GB = 200,000 GB-s at $0.0000166667 = $3.33334; requests $0.20
    case = _fn(1024, "x86_64", 1_000_000, 200)
    est = price_body(case["template"], case["usage"])
    assert cost_of(est, "Fn", "Duration") == pytest.approx(200_000 * X86_GBS, abs=1e-9)
    assert cost_of(est, "Fn", "Duration") == pytest.approx(3.33334, abs=1e-6)
    assert cost_of(est, "Fn", "Requests") == pytest.approx(0.20, abs=1e-9)


@pytest.mark.parametrize(
    ("memory", "arch", "expected"),
    [
        (3008, "x86_64", 99.92),  # cost-facts: 10M invocations × 200 ms, 3,008 MB x86
        (1024, "arm64", 28.67),
        (512, "arm64", 15.33),
    ],
)
def test_lambda_rightsizing_illustration(memory: int, arch: str, expected: float) -> None:
    case = _fn(memory, arch, 10_000_000, 200)
    est = price_body(case["template"], case["usage"])
    total = cost_of(est, "Fn", "Duration") + cost_of(est, "Fn", "Requests")
    assert round(total, 2) == expected


@pytest.mark.parametrize(
    ("memory", "share", "factor"),
    [
        (3008, 0.25, 1.0),  # above one vCPU: the stated duration
        (1769, 0.25, 1.0),
        (512, 0.0, 1.0),  # nothing CPU-bound: memory does not matter
        (512, 0.25, 0.75 + 0.25 * 1769 / 512),  # 1.6138: 0.289 vCPU
        (512, 1.0, 1769 / 512),
        (128, 0.5, 0.5 + 0.5 * 1769 / 128),
    ],
)
def test_lambda_duration_stretches_with_the_cpu_share(
    memory: int, share: float, factor: float
) -> None:
    # 1M requests × 200 ms × factor × memory / 1024 GB-s at the arm64 rate
    case = _fn(memory, "arm64", 1_000_000, 200, cpu_bound_share=share)
    est = price_body(case["template"], case["usage"])
    gb_s = 1_000_000 * 0.2 * factor * memory / 1024
    assert cost_of(est, "Fn", "Duration") == pytest.approx(gb_s * ARM_GBS[0], rel=1e-9)


def test_lambda_duration_tiers_are_split() -> None:
    # 1e9 requests × 10 s × 1 GB = 1e10 GB-s: 7.5e9 in the first arm64 tier, 2.5e9 in the second
    case = _fn(1024, "arm64", 1_000_000_000, 10_000)
    est = price_body(case["template"], case["usage"])
    rows = [c for c in item(est, "Fn").components if c.name.startswith("Duration")]
    assert [(c.tier, c.monthly_quantity, c.unit_price) for c in rows] == [
        ("first 7.5B GB-second", 7.5e9, ARM_GBS[0]),
        ("next 11.25B GB-second", 2.5e9, ARM_GBS[1]),
    ]
    assert sum(c.monthly_cost for c in rows) == pytest.approx(
        7.5e9 * 0.0000133334 + 2.5e9 * 0.0000120001
    )
    assert sum(c.monthly_cost for c in rows) == pytest.approx(130_000.75)


def test_tiers_are_shared_by_the_account_in_order() -> None:
    # Two x86 functions of 5e9 GB-s each: the second crosses the 6e9 tier boundary.
    fn = {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 1024}}
    body = {"Resources": {"A": fn, "B": fn}}
    usage = {
        "resources": [
            {
                "match": ["*"],
                "type": "AWS::Lambda::Function",
                "usage": {
                    "monthly_requests": 500_000_000,
                    "request_duration_ms": 10_000,
                    "log_kb_per_request": 0,
                    "cpu_bound_share": 0,
                },
            }
        ]
    }
    est = price_body(body, usage)
    a = [c for c in item(est, "A").components if c.name.startswith("Duration")]
    b = [c for c in item(est, "B").components if c.name.startswith("Duration")]
    assert [(c.monthly_quantity, c.unit_price) for c in a] == [(5e9, X86_GBS)]
    assert [(c.monthly_quantity, c.unit_price) for c in b] == [(1e9, X86_GBS), (4e9, 0.000015)]


def test_rest_api_request_tiers() -> None:
    # 400M requests: 333M at $3.50 per 1M + 67M at $2.80 per 1M = $1,353.10
    body = {"Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi"}}}
    usage = {"resources": [{"logical_id": "Api", "usage": {"monthly_requests": 400_000_000}}]}
    est = price_body(body, usage)
    assert cost_of(est, "Api", "Requests") == pytest.approx(333 * 3.50 + 67 * 2.80)


def test_dynamodb_reference_figures() -> None:
    # cost-facts (Infracost golden 2024-11-15): 3M WRU → $1.88, 8M RRU → $1.00,
    # 20 WCU → $9.49, 30 RCU → $2.85 a month
    body = {
        "Resources": {
            "OnDemand": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {"BillingMode": "PAY_PER_REQUEST"},
            },
            "Provisioned": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "ProvisionedThroughput": {"WriteCapacityUnits": 20, "ReadCapacityUnits": 30}
                },
            },
        }
    }
    usage = {
        "resources": [
            {
                "match": ["*"],
                "type": "AWS::DynamoDB::Table",
                "usage": {
                    "monthly_write_request_units": 3_000_000,
                    "monthly_read_request_units": 8_000_000,
                    "storage_gb": 0,
                },
            }
        ]
    }
    est = price_body(body, usage)
    assert round(cost_of(est, "OnDemand", "Write request"), 2) == 1.88
    assert round(cost_of(est, "OnDemand", "Read request"), 2) == 1.00
    assert round(cost_of(est, "Provisioned", "Write capacity"), 2) == 9.49
    assert round(cost_of(est, "Provisioned", "Read capacity"), 2) == 2.85


def test_fixed_monthly_figures() -> None:
    body = {
        "Resources": {
            "Nat": {"Type": "AWS::EC2::NatGateway"},
            "Board": {"Type": "AWS::CloudWatch::Dashboard"},
            "Key": {"Type": "AWS::KMS::Key"},
            "Box": {
                "Type": "AWS::EC2::Instance",
                "Properties": {"InstanceType": "t3.nano", "Monitoring": True},
            },
        }
    }
    usage = {
        "resources": [
            {"logical_id": "Nat", "usage": {"monthly_data_processed_gb": 0}},
            {"logical_id": "Key", "usage": {"monthly_requests": 0}},
            {"logical_id": "Box", "usage": {"monthly_cpu_credit_hours": 1460}},
        ]
    }
    est = price_body(body, usage)
    assert cost_of(est, "Nat", "NAT Gateway hours") == pytest.approx(730 * 0.045)  # $32.85
    assert cost_of(est, "Board", "Dashboard") == pytest.approx(3.00)
    assert cost_of(est, "Key", "Customer managed key") == pytest.approx(1.00)
    assert cost_of(est, "Box", "Instance hours") == pytest.approx(730 * 0.0052)  # $3.80
    assert cost_of(est, "Box", "Detailed monitoring") == pytest.approx(2.10)  # 7 metrics
    assert cost_of(est, "Box", "Unlimited CPU credits") == pytest.approx(73.0)  # 1,460 vCPU-h


def test_aurora_reference_figures() -> None:
    # cost-facts: 52.56M I/O → $10.51; 3,650 ACU-hours of Serverless v2 → $438
    body = {
        "Resources": {
            "Cluster": {
                "Type": "AWS::RDS::DBCluster",
                "Properties": {"Engine": "aurora-postgresql"},
            },
            "Serverless": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBClusterIdentifier": {"Ref": "Cluster"},
                    "DBInstanceClass": "db.serverless",
                },
            },
        }
    }
    usage = {
        "resources": [
            {
                "logical_id": "Cluster",
                "usage": {"monthly_io_requests": 52_560_000, "storage_gb": 0},
            },
            {"logical_id": "Serverless", "usage": {"average_acu": 5}},
        ]
    }
    est = price_body(body, usage)
    assert round(cost_of(est, "Cluster", "I/O"), 2) == 10.51
    assert cost_of(est, "Serverless", "Serverless v2") == pytest.approx(3650 * 0.12)


def test_provisioned_concurrency_reference_figure() -> None:
    # cost-facts: 50 × 0.5 GB × 100 h = 9M GB-s of arm64 provisioned concurrency → $30.00
    body = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"MemorySize": 512, "Architectures": ["arm64"]},
            },
            "Live": {
                "Type": "AWS::Lambda::Alias",
                "Properties": {
                    "FunctionName": {"Ref": "Fn"},
                    "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 50},
                },
            },
        }
    }
    usage = {"resources": [{"logical_id": "Live", "usage": {"monthly_provisioned_hours": 100}}]}
    est = price_body(body, usage)
    assert round(cost_of(est, "Live", "Provisioned"), 2) == 30.00


def test_log_retention_illustration() -> None:
    # cost-facts: 100 GB a month kept 7 days holds about 23 GB → about $0.70 of storage;
    # ingestion $50 either way
    body = {
        "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}}
    }
    usage = {"resources": [{"logical_id": "Logs", "usage": {"monthly_data_ingested_gb": 100}}]}
    est = price_body(body, usage)
    stored = [c for c in item(est, "Logs").components if c.name.startswith("Storage")][0]
    assert stored.monthly_quantity == pytest.approx(100 / (730 / 24) * 7)
    assert round(stored.monthly_cost, 2) == 0.69
    assert cost_of(est, "Logs", "Ingestion") == pytest.approx(50.0)


def test_each_bucket_holds_what_writes_to_it() -> None:
    """No name pattern: the access-log bucket holds the log lines of the data bucket's requests,
    the audit bucket what the trail and the flow log send it (12 months held, never expiring)."""
    spec = yaml.safe_load((GOLDEN / "s3_log_writers.yaml").read_text())
    est = price_body(spec["template"], spec["usage"])
    months = 365 / (730 / 24)
    gb = 1024 * 1024  # KB per GB
    data_requests = 100 * gb / 100 + 1_000_000  # one PUT per 100 KB object, plus the GETs
    expected = {
        "Data": 100 * months,
        "AccessLogs": data_requests * 0.4 / gb * months,
        "AuditLogs": (1_000_000 * 1.0 / gb + 8) * months,
        "CdnLogs": 2_000_000 * 0.5 / gb * months,
    }
    for bucket, stored in expected.items():
        rows = [c for c in item(est, bucket).components if c.name == "Standard storage"]
        assert sum(c.monthly_quantity for c in rows) == pytest.approx(stored, rel=1e-6), bucket


def test_instance_prices_match_infracosts_goldens() -> None:
    """The rows added from Infracost's goldens reproduce them: a t3.medium 730 h = $30.37
    (instance_test), a PostgreSQL db.t3.large 730 h = $105.85 with 20 GB gp2 = $2.30
    (db_instance_test)."""
    body = {
        "Resources": {
            "Box": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t3.medium"}},
            "Db": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "Engine": "postgres",
                    "DBInstanceClass": "db.t3.large",
                    "AllocatedStorage": 20,
                    "StorageType": "gp2",
                },
            },
        }
    }
    est = price_body(body)
    assert round(cost_of(est, "Box", "Instance hours"), 2) == 30.37
    assert round(cost_of(est, "Db", "Instance hours"), 2) == 105.85
    assert round(cost_of(est, "Db", "Storage"), 2) == 2.30
