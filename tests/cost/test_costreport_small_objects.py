"""S3 Lifecycle and objects under 128 KB: what a transition rule really moves.

Since September 2024 S3 Lifecycle does not transition objects smaller than 128 KB to any
storage class by default (``TransitionDefaultMinimumObjectSize: all_storage_classes_128K``);
``varies_by_storage_class`` lets them go to Glacier Flexible Retrieval and Deep Archive only,
and a rule with an ``ObjectSizeGreaterThan``/``ObjectSizeLessThan`` filter takes precedence
over either default (S3 User Guide, "Transitioning objects using Amazon S3 Lifecycle",
read 2026-12-03). A small object that does not move stays in its class: no transition request
is charged for it and none of the target class's savings apply.
"""

from __future__ import annotations

from typing import Any

import pytest
from costreport_helpers import item, price_body

GB = 304.1667  # 10 GB a day over the catalogue's 30.4167-day month


def _bucket(
    storage_class: str, *, default_size: str | None = None, rule: dict[str, Any] | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Rules": [
            {
                "Status": "Enabled",
                "Transitions": [{"StorageClass": storage_class, "TransitionInDays": 30}],
                **(rule or {}),
            }
        ]
    }
    if default_size:
        config["TransitionDefaultMinimumObjectSize"] = default_size
    return {
        "Resources": {
            "Audit": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"LifecycleConfiguration": config},
            }
        }
    }


def _price(body: dict[str, Any], object_kb: float) -> Any:
    usage = {
        "defaults": {
            "AWS::S3::Bucket": {
                "monthly_ingest_gb": GB,
                "average_object_size_kb": object_kb,
                "monthly_tier_2_requests": 0,
                "retention_horizon_days": 365,
            }
        }
    }
    return item(price_body(body, usage), "Audit")


def _names(line: Any) -> list[str]:
    return [c.name for c in line.components]


def _cost(line: Any, prefix: str) -> float:
    return sum(c.monthly_cost or 0.0 for c in line.components if c.name.startswith(prefix))


@pytest.mark.parametrize("target", ["GLACIER_IR", "STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"])
def test_small_objects_stay_in_standard_by_default(target: str) -> None:
    line = _price(_bucket(target), object_kb=2)
    assert not any(n.startswith("Lifecycle transitions") for n in _names(line))
    assert _names(line)[0] == "Standard storage"
    # a year of 10 GB a day, all of it in Standard
    assert _cost(line, "Standard storage") == pytest.approx(GB / 30.4167 * 365 * 0.023, rel=1e-3)
    assert not any("Glacier" in n or "Standard-IA" in n for n in _names(line))
    assert any("128 KB" in n for n in line.notes)


def test_large_objects_still_transition() -> None:
    line = _price(_bucket("GLACIER_IR"), object_kb=256)
    assert "Lifecycle transitions to Glacier Instant Retrieval" in _names(line)
    assert "Glacier Instant Retrieval storage" in _names(line)


@pytest.mark.parametrize(("target", "moves"), [("GLACIER", True), ("DEEP_ARCHIVE", True)])
def test_varies_by_storage_class_lets_small_objects_reach_the_archive_classes(
    target: str, moves: bool
) -> None:
    line = _price(_bucket(target, default_size="varies_by_storage_class"), object_kb=2)
    assert any(n.startswith("Lifecycle transitions") for n in _names(line)) is moves


@pytest.mark.parametrize("target", ["GLACIER_IR", "STANDARD_IA", "INTELLIGENT_TIERING"])
def test_varies_by_storage_class_still_holds_small_objects_back_elsewhere(target: str) -> None:
    line = _price(_bucket(target, default_size="varies_by_storage_class"), object_kb=2)
    assert not any(n.startswith("Lifecycle transitions") for n in _names(line))


def test_a_size_filter_takes_precedence_over_the_default() -> None:
    line = _price(_bucket("GLACIER_IR", rule={"ObjectSizeGreaterThan": 0}), object_kb=2)
    assert "Lifecycle transitions to Glacier Instant Retrieval" in _names(line)


def test_a_size_filter_the_objects_miss_leaves_them_alone() -> None:
    # the rule applies to objects above 1 MB only: 2 KB objects are not touched by it at all
    line = _price(_bucket("GLACIER", rule={"ObjectSizeGreaterThan": 1048576}), object_kb=2)
    assert not any(n.startswith("Lifecycle transitions") for n in _names(line))
    assert _names(line)[0] == "Standard storage"


def test_expiration_still_applies_to_small_objects() -> None:
    line = _price(_bucket("GLACIER_IR", rule={"ExpirationInDays": 60}), object_kb=2)
    assert line.attributes["lifecycle"] == "expire at day 60"
    assert _cost(line, "Standard storage") == pytest.approx(GB / 30.4167 * 60 * 0.023, rel=1e-3)
