"""The cost model's rules: unknown types, free types, lifecycle shares, usage, regions, diff."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest
import yaml
from costreport_helpers import item, price_body, profile_with

import reports.cost.resources as package
from reports.cost.catalogue import CatalogueError, load_catalogue
from reports.cost.estimate import Assembly, estimate
from reports.cost.free import FREE_TYPES, free_reason
from reports.cost.model import Comparison, Status
from reports.cost.resources import all_pricers, declared_usage
from reports.cost.usage import PLATFORM_USAGE_PATH, UsageError, build_profile, load_usage

DAYS = 730 / 24


# --- unknown and free types -----------------------------------------------------------------


def test_unknown_type_is_not_priced_and_not_counted() -> None:
    body = {
        "Resources": {
            "Mystery": {"Type": "AWS::Foo::Bar"},
            "Key": {"Type": "AWS::KMS::Key"},
        }
    }
    est = price_body(body, {"resources": [{"logical_id": "Key", "usage": {"monthly_requests": 0}}]})
    mystery = item(est, "Mystery")
    assert mystery.status == Status.NOT_PRICED
    assert mystery.components == []
    assert "no price" in mystery.notes[0]
    assert [i.logical_id for i in est.not_priced()] == ["Mystery"]
    assert est.total == pytest.approx(1.0)  # the key only


def test_other_sam_resources_are_reported_with_what_to_do() -> None:
    body = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"Table": {"Type": "AWS::Serverless::SimpleTable"}},
    }
    table = item(price_body(body), "Table")
    assert table.status == Status.NOT_PRICED
    assert table.notes[0].startswith("an AWS SAM resource: SAM turns it into other resources")
    assert "sam package" in table.notes[0]


def test_missing_price_marks_the_line_partial() -> None:
    body = {
        "Resources": {
            "Box": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "x9z.huge"}}
        }
    }
    est = price_body(body)
    box = item(est, "Box")
    assert box.status == Status.PARTIAL
    assert [c.name for c in box.unpriced_components] == ["Instance hours (x9z.huge)"]
    assert box.unpriced_components[0].monthly_cost is None


def test_free_types_and_priced_types_do_not_overlap() -> None:
    assert set(FREE_TYPES) & set(all_pricers()) == set()
    assert free_reason("Custom::AnythingAtAll")
    assert free_reason("AWS::Foo::Bar") is None


def test_free_resource_lines_carry_their_reason() -> None:
    est = price_body({"Resources": {"Role": {"Type": "AWS::IAM::Role"}}})
    role = item(est, "Role")
    assert (role.status, role.notes, role.monthly_cost) == (Status.FREE, ["IAM is free"], 0)


# --- S3 lifecycle: share of time in each class ---------------------------------------------


def _bucket(rules: list[dict], usage: dict) -> tuple[float, dict[str, float]]:
    body = {
        "Resources": {
            "B": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"LifecycleConfiguration": {"Rules": rules}},
            }
        }
    }
    est = price_body(body, {"resources": [{"logical_id": "B", "usage": usage}]})
    storage = {
        c.name: c.monthly_quantity for c in item(est, "B").components if c.name.endswith("storage")
    }
    return item(est, "B").monthly_cost, storage


def test_lifecycle_splits_steady_storage_by_share_of_time() -> None:
    # 1,000 GB held, Glacier from day 30, expiring at day 400: 30/400 in Standard, 370/400 in Glacier
    rules = [
        {
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
            "ExpirationInDays": 400,
        }
    ]
    _, storage = _bucket(
        rules, {"storage_gb": 1000, "average_object_size_kb": 1024, "retention_horizon_days": 3650}
    )
    assert storage["Standard storage"] == pytest.approx(1000 * 30 / 400)
    assert storage["Glacier Flexible Retrieval storage"] == pytest.approx(1000 * 370 / 400)


def test_lifecycle_from_monthly_ingest() -> None:
    # 30.4167 GB a month (1 GB a day), Glacier from day 30, never expires (365-day horizon)
    rules = [
        {"Status": "Enabled", "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}]}
    ]
    _, storage = _bucket(rules, {"monthly_ingest_gb": DAYS, "average_object_size_kb": 1024})
    assert storage["Standard storage"] == pytest.approx(30)
    assert storage["Glacier Flexible Retrieval storage"] == pytest.approx(335)


def test_lifecycle_cuts_the_storage_bill() -> None:
    glacier = [
        {"Status": "Enabled", "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}]}
    ]
    usage = {"monthly_ingest_gb": 500, "average_object_size_kb": 1024}
    none, _ = _bucket([], usage)
    with_rule, _ = _bucket(glacier, usage)
    assert with_rule < none * 0.4  # storage -84 %, plus transitions and per-object overhead


def test_data_younger_than_the_expiration_is_held_until_the_horizon() -> None:
    # A never-expiring bucket and one expiring at day 400 hold the same data in the first year
    expiring = [{"Status": "Enabled", "ExpirationInDays": 400}]
    usage = {
        "monthly_ingest_gb": DAYS,
        "average_object_size_kb": 1024,
        "retention_horizon_days": 365,
    }
    assert (
        _bucket(expiring, usage)[1]
        == _bucket([], usage)[1]
        == {"Standard storage": pytest.approx(365)}
    )


def test_disabled_rules_and_late_transitions_are_ignored() -> None:
    rules = [
        {"Status": "Disabled", "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 1}]},
        {
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 500}],
            "ExpirationInDays": 100,
        },
    ]
    _, storage = _bucket(rules, {"storage_gb": 100})
    assert storage == {"Standard storage": pytest.approx(100)}


def test_glacier_minimum_duration_is_charged() -> None:
    # Glacier from day 30, expired at day 60: 30 days in Glacier, billed for 90
    rules = [
        {
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
            "ExpirationInDays": 60,
        }
    ]
    body = {
        "Resources": {
            "B": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"LifecycleConfiguration": {"Rules": rules}},
            }
        }
    }
    est = price_body(
        body,
        {
            "resources": [
                {
                    "logical_id": "B",
                    "usage": {"monthly_ingest_gb": DAYS, "average_object_size_kb": 1024},
                }
            ]
        },
    )
    early = [c for c in item(est, "B").components if "early deletion" in c.name]
    assert [c.monthly_quantity for c in early] == [pytest.approx(60)]  # 1 GB a day × 60 days short


# --- usage profile ---------------------------------------------------------------------------


def test_workload_from_one_number() -> None:
    profile = load_usage(PLATFORM_USAGE_PATH, declared_usage())
    w = profile.workload
    assert w.peak_transactions_per_minute == 10_000
    assert sum(w.hourly_shape) == pytest.approx(13.06)
    assert max(w.hourly_shape) == 1.0
    expected = 10_000 * 60 * 13.06 * DAYS
    assert profile.monthly_transactions("production") == pytest.approx(expected)
    assert profile.monthly_transactions("staging") == pytest.approx(expected * 0.05)
    assert profile.monthly_transactions("dev") == pytest.approx(expected * 0.01)
    assert profile.monthly_transactions("other") == pytest.approx(expected)


def test_usage_follows_the_transactions() -> None:
    body = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"FunctionName": "process-payment-prod"},
            },
            "Api1": {"Type": "AWS::ApiGateway::RestApi"},
            "Api2": {"Type": "AWS::ApiGateway::RestApi"},
        }
    }
    est = price_body(body, environment="staging")
    tx = 10_000 * 60 * 13.06 * DAYS * 0.05
    requests = [c for c in item(est, "Fn").components if c.name == "Requests"][0]
    assert requests.monthly_quantity == pytest.approx(tx / 1e6)  # one invocation per transaction
    for api in ("Api1", "Api2"):  # the environment's API traffic is shared by its two APIs
        rows = [c for c in item(est, api).components if c.name == "Requests"]
        assert sum(c.monthly_quantity for c in rows) == pytest.approx(tx / 2 / 1e6)


def test_usage_rules_match_paths_and_names_case_insensitively() -> None:
    profile = profile_with(
        {"resources": [{"match": ["*Process-Payment*"], "usage": {"request_duration_ms": 99}}]}
    )
    from governance.template import Template

    tpl = Template(
        name="S",
        path="s",
        body={
            "Resources": {
                "A": {
                    "Type": "AWS::Lambda::Function",
                    "Metadata": {"aws:cdk:path": "S/PROCESS_PAYMENT/Resource"},
                },
                "B": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"FunctionName": "processpayment-x"},
                },
                "C": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "other"}},
            }
        },
    )
    got = {
        lid: profile.for_resource(r, "dev").get("request_duration_ms")
        for lid, r in tpl.resources.items()
    }
    assert got == {"A": 99, "B": 99, "C": 200}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"defaults": {"AWS::Lambda::Function": {"monthly_requestz": 1}}},
            "test-usage: defaults.AWS::Lambda::Function: AWS::Lambda::Function declares no usage"
            " key 'monthly_requestz' (did you mean 'monthly_requests'?)",
        ),
        (
            {"resources": [{"match": "*", "type": "AWS::SQS::Queue", "usage": {"qqq": 1}}]},
            "test-usage: resources[0].usage: AWS::SQS::Queue declares no usage key 'qqq' (its keys"
            " are esm_pollers, long_poll_seconds, monthly_requests, request_size_kb)",
        ),
        (
            {"defaults": {"AWS::IAM::Role": {"x": 1}}},
            "test-usage: defaults.AWS::IAM::Role: AWS::IAM::Role is free and takes no usage values",
        ),
        (
            {"defaults": {"AWS::Foo::Bar": {"x": 1}}},
            "test-usage: defaults.AWS::Foo::Bar: AWS::Foo::Bar is not a priced resource type",
        ),
        (
            {"resources": [{"match": "*", "usage": {"bogus": 1}}]},
            "test-usage: resources[0].usage: no pricer declares usage key 'bogus'",
        ),
        (
            {"resources": [{"match": "*", "usage": {"log_kb_per_requests": 1}}]},
            "test-usage: resources[0].usage: no pricer declares usage key 'log_kb_per_requests'"
            " (did you mean 'log_kb_per_request'?)",
        ),
        (
            {"resources": [{"logical_id": "A", "usage": {"storage_gb": "lots"}}]},
            "test-usage: resources[0].usage.storage_gb must be a number >= 0 or a per-transaction"
            " mapping; got 'lots'",
        ),
    ],
)
def test_usage_validation_names_the_file_and_key(doc: dict, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        profile_with(doc)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"workload": {"hourly_shape": [1, 2]}}, "24 numbers"),
        (
            {"defaults": {"AWS::SQS::Queue": {"monthly_requests": {"per_txn": 1}}}},
            "unknown form key",
        ),
        ({"resources": [{"usage": {"monthly_requests": 1}}]}, "needs `match`"),
        ({"nonsense": 1}, None),
    ],
)
def test_malformed_usage_profiles(tmp_path: Path, doc: dict, message: str | None) -> None:
    path = tmp_path / "usage.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(UsageError, match=message or "unknown top-level key"):
        load_usage(path, declared_usage())


def test_the_default_profile_is_valid() -> None:
    profile = load_usage(
        PLATFORM_USAGE_PATH, declared_usage()
    )  # checks every key against the declarations
    assert profile.rules and profile.overrides == {}


# --- regions and the catalogue ---------------------------------------------------------------


def test_assumed_region_is_flagged_on_every_component() -> None:
    body = {"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway"}}}
    est = price_body(body, region="us-east-2")
    comps = item(est, "Nat").components
    assert {c.unit_price for c in comps if c.name.startswith("NAT")} == {0.045}
    assert all("us-east-2 price assumed equal to us-east-1" in c.note for c in comps)
    price = load_catalogue().price("nat.hours", "us-east-2")
    assert price is not None and price.assumed_from == "us-east-1"


def test_region_missing_from_the_catalogue_is_not_priced() -> None:
    est = price_body({"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway"}}}, region="eu-west-1")
    nat = item(est, "Nat")
    assert nat.status == Status.PARTIAL
    assert nat.monthly_cost == 0
    assert all(c.note.startswith("no price for") for c in nat.components)


def test_every_price_has_source_date_field_and_grade() -> None:
    catalogue = load_catalogue()
    entries = catalogue.entries()
    assert len(entries) > 100
    for p in entries:
        assert p.source and p.grade in {"A", "B", "C", "D"}, p.key
    dated = [p for p in entries if p.grade == "A"]
    assert all(p.as_of for p in dated)


def test_malformed_catalogue(tmp_path: Path) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "regions": {"us-east-1": {}},
                "prices": {
                    "us-east-1": {"x": {"service": "S", "unit": "u", "source": "s", "grade": "A"}}
                },
            }
        )
    )
    with pytest.raises(CatalogueError, match=r"prices.us-east-1.x needs `usd`"):
        load_catalogue(bad)


# --- before/after ----------------------------------------------------------------------------


def _side(memory: int, arch: str, nats: int) -> list[Assembly]:
    from governance.template import Template

    resources = {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "MemorySize": memory,
                "Architectures": [arch],
                "FunctionName": "process-payment",
                "VpcConfig": {"SubnetIds": ["private-a", "private-b"]},  # its calls go via NAT
            },
            "Metadata": {"aws:cdk:path": "App/ProcessPayment/Resource"},
        }
    }
    for i in range(nats):
        resources[f"Nat{i}"] = {
            "Type": "AWS::EC2::NatGateway",
            "Metadata": {"aws:cdk:path": f"App/Nat{i}"},
        }
    return [Assembly("production", [Template(name="App", path="a", body={"Resources": resources})])]


def test_comparison_names_the_drivers() -> None:
    profile = build_profile(
        [("d", yaml.safe_load(Path("reports/cost/usage/payments.yaml").read_text()))],
        declared_usage(),
    )
    catalogue = load_catalogue()
    before = estimate(
        _side(3008, "x86_64", 3), label="before", catalogue=catalogue, profile=profile
    )
    after = estimate(_side(512, "arm64", 1), label="after", catalogue=catalogue, profile=profile)
    comparison = Comparison(before, after)
    total = comparison.total
    assert total.saving == pytest.approx(before.total - after.total)
    assert total.saving_percent == pytest.approx(100 * total.saving / before.total)
    drivers = {(d.resource_type, d.description): d for d in comparison.drivers()}
    fn = drivers[("AWS::Lambda::Function", "configuration 3,008 MB x86_64 → 512 MB arm64")]
    assert fn.count == 1 and fn.saving > 0
    nat = drivers[("AWS::EC2::NatGateway", "2 removed; their usage moves to the remaining 1")]
    assert nat.count == 3
    assert nat.saving == pytest.approx(2 * 730 * 0.045)  # the hours; the traffic only moves
    traffic = [
        c.monthly_quantity
        for i in after.items
        if i.resource_type == "AWS::EC2::NatGateway"
        for c in i.components
        if c.name == "Data processed"
    ]
    # the function in the VPC: one invocation per transaction × 2 KB outbound
    assert traffic == [pytest.approx(10_000 * 60 * 13.06 * DAYS * 2 / 1024 / 1024)]
    assert sum(d.saving for d in comparison.drivers()) == pytest.approx(total.saving)
    assert [d.saving for d in comparison.drivers()] == sorted(
        (d.saving for d in comparison.drivers()), reverse=True
    )


# --- discovery -------------------------------------------------------------------------------


def test_pricers_are_discovered_from_every_module_of_the_package() -> None:
    modules = {spec.func.__module__ for spec in all_pricers().values()}
    expected = {f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)}
    assert modules == expected - {f"{package.__name__}.base"}
