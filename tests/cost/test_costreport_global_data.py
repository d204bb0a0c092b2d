"""The global data system in the cost model: the regions' split of its traffic, both regions
priced, and a split default shared only by the resources no usage entry names."""

from __future__ import annotations

import pytest
from costreport_helpers import item, price_body

from governance.template import load_cloud_assembly
from reports.cost.catalogue import load_catalogue
from reports.cost.estimate import Assembly, estimate
from reports.cost.resources import declared_usage
from reports.cost.usage import PLATFORM_USAGE_PATH, load_usage

API = {"Type": "AWS::ApiGateway::RestApi", "Properties": {}}


def _requests(est, logical_id: str) -> float:
    (line,) = [c for c in item(est, logical_id).components if c.name.startswith("Requests")]
    return line.monthly_quantity


def test_a_named_api_does_not_dilute_the_shared_default() -> None:
    usage = {"resources": [{"logical_id": "Regional", "usage": {"monthly_requests": 1000}}]}
    three = price_body({"Resources": {"Shared": API, "Other": API, "Regional": API}}, usage)
    two = price_body({"Resources": {"Shared": API, "Other": API}})
    assert _requests(three, "Shared") == pytest.approx(_requests(two, "Shared"))
    assert _requests(three, "Other") == pytest.approx(_requests(two, "Other"))
    assert _requests(three, "Regional") != pytest.approx(_requests(two, "Shared"))


@pytest.fixture(scope="module")
def production(synth_platform):
    profile = load_usage(PLATFORM_USAGE_PATH, declared_usage())
    templates = load_cloud_assembly(synth_platform("production"))
    est = estimate(
        [Assembly("production", templates)],
        label="after",
        catalogue=load_catalogue(),
        profile=profile,
    )
    return est, profile.monthly_transactions("production")


def _line(est, name: str):
    (found,) = [i for i in est.items if i.name == name]
    return found


def _quantity(line, component: str) -> float:
    return sum(c.monthly_quantity for c in line.components if c.name.startswith(component))


def test_processor_and_api_traffic_split_95_5_between_the_regions(production) -> None:
    est, transactions = production
    for role, share in (("Primary", 0.95), ("Secondary", 0.05)):
        fn = _line(est, f"GlobalDataService{role}/Processor/Function")
        assert fn.region == ("us-east-1" if role == "Primary" else "us-west-2")
        assert _quantity(fn, "Requests") * 1e6 == pytest.approx(share * transactions, rel=1e-6)
        api = _line(est, f"GlobalDataService{role}/Api/Api")
        assert _quantity(api, "Requests") * 1e6 == pytest.approx(share * transactions, rel=1e-6)


def test_replicated_writes_and_both_replicas_storage_are_priced(production) -> None:
    est, transactions = production
    table = _line(est, "GlobalDataTable/Payments")
    names = [c.name for c in table.components]
    assert {"Storage (us-east-1)", "Storage (us-west-2)"} <= set(names)
    # one rWRU per write in each replica region, the writing one included (AWS's billing page)
    for region in ("us-east-1", "us-west-2"):
        rwru = _quantity(table, f"Replicated write request units ({region})") * 1e6
        assert rwru == pytest.approx(3 * transactions, rel=1e-6)
        # the payment item updates both GSIs, in each region
        gsi = _quantity(table, f"Index write request units ({region})") * 1e6
        assert gsi == pytest.approx(2 * transactions, rel=1e-6)
    assert "Write request units" not in names
    transfer = _quantity(table, "Replication data transfer to us-west-2")
    assert transfer == pytest.approx(3 * transactions / 1024 / 1024, rel=1e-6)


def test_keys_and_health_checks_of_both_regions_are_priced(production) -> None:
    est, _ = production
    keys = [i for i in est.items if i.name.startswith("GlobalDataKeys") and i.resource_type == "AWS::KMS::Key"]  # fmt: skip
    assert sorted(k.region for k in keys) == ["us-east-1"] * 3 + ["us-west-2"] * 3
    assert all(k.monthly_cost > 1 for k in keys)
    checks = [i for i in est.items if i.resource_type == "AWS::Route53::HealthCheck"]
    assert [c.monthly_cost for c in checks] == [1.5, 1.5]  # $0.50 + HTTPS option $1.00
