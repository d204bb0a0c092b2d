"""DynamoDB global tables billed as AWS's own example does ("Understanding Amazon DynamoDB
billing for global tables", DynamoDB Developer Guide, read 2026-12-03): day 3 of the example
writes 200 1 KB items to a two-replica table with one GSI, and is charged 200 rWRUs and 200
WRUs (the GSI updates) in each of the two regions."""

from __future__ import annotations

import pytest
from costreport_helpers import item, price_body


def _table(replicas: list[str], indexes: int = 1) -> dict:
    return {
        "Resources": {
            "TableA": {
                "Type": "AWS::DynamoDB::GlobalTable",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                    "GlobalSecondaryIndexes": [
                        {"IndexName": f"gsi{i}", "Projection": {"ProjectionType": "ALL"}}
                        for i in range(indexes)
                    ],
                    "Replicas": [{"Region": r} for r in replicas],
                },
            }
        }
    }


def _usage(writes: float) -> dict:
    return {
        "resources": [
            {
                "logical_id": "TableA",
                "usage": {
                    "monthly_write_request_units": writes,
                    "monthly_read_request_units": 0,
                    "storage_gb": 0,
                },
            }
        ]
    }


def _units(line, prefix: str) -> dict[str, float]:
    return {c.name: c.monthly_quantity * 1e6 for c in line.components if c.name.startswith(prefix)}


def test_awss_day_3_example() -> None:
    est = price_body(_table(["us-west-2", "us-east-2"]), _usage(200), region="us-west-2")
    line = item(est, "TableA")
    assert _units(line, "Replicated write request units") == pytest.approx(
        {
            "Replicated write request units (us-west-2)": 200,
            "Replicated write request units (us-east-2)": 200,
        }
    )
    assert _units(line, "Index write request units") == pytest.approx(
        {
            "Index write request units (us-west-2)": 200,
            "Index write request units (us-east-2)": 200,
        }
    )
    assert not any(c.name == "Write request units" for c in line.components)


def test_a_single_replica_is_billed_as_a_single_region_table() -> None:
    line = item(price_body(_table(["us-east-1"], indexes=0), _usage(100)), "TableA")
    assert [c.name for c in line.components][:1] == ["Write request units"]
    assert not any("Replicat" in c.name for c in line.components)


def test_replication_traffic_is_inter_region_transfer_from_the_writing_region() -> None:
    gb = 1024.0 * 1024.0
    line = item(price_body(_table(["us-east-1", "us-west-2"], indexes=0), _usage(gb)), "TableA")
    (transfer,) = [c for c in line.components if c.name.startswith("Replication data transfer")]
    assert transfer.name == "Replication data transfer to us-west-2"
    assert transfer.monthly_quantity == pytest.approx(1.0)  # 1 GB: a write unit is up to 1 KB
    assert transfer.unit_price == 0.02
