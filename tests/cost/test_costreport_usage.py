"""Usage keys: declared once beside the pricer, read only when declared, documented from the
declarations (``docs/usage.md``), refused in a profile when no pricer declares them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from costreport_helpers import item, price_body, profile_with

from governance.cli import main
from governance.template import Resource, Template
from reports.cost.model import CostComponent, Status
from reports.cost.resources import all_pricers, base, declared_usage
from reports.cost.resources.base import Context, PricerSpec, prices
from reports.cost.usage import (
    PLATFORM_USAGE_PATH,
    Derived,
    PerTransaction,
    UndeclaredUsageKey,
    UnsetUsageKey,
    Usage,
    UsageKey,
    derived,
)
from reports.cost.usage_doc import REGENERATE, USAGE_DOC, render_markdown

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"

#: Templates reaching the branches the golden cases leave out, so that every declared key is read.
EXTRA_CASES: list[tuple[dict, dict | None]] = [
    (
        {
            "Resources": {
                "Group": {
                    "Type": "AWS::AutoScaling::AutoScalingGroup",
                    "Properties": {"MinSize": 1, "MaxSize": 2},
                },
                "Trail": {"Type": "AWS::CloudTrail::Trail"},
                "Table": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {"StreamSpecification": {"StreamViewType": "NEW_IMAGE"}},
                },
                "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},
                "Acl": {"Type": "AWS::WAFv2::WebACL"},
                "LbAcl": {"Type": "AWS::WAFv2::WebACL"},
                "Assoc": {
                    "Type": "AWS::WAFv2::WebACLAssociation",
                    "Properties": {
                        "ResourceArn": {"Ref": "Lb"},
                        "WebACLArn": {"Fn::GetAtt": ["LbAcl", "Arn"]},
                    },
                },
                "WafLogs": {"Type": "AWS::Logs::LogGroup"},
                "Logging": {
                    "Type": "AWS::WAFv2::LoggingConfiguration",
                    "Properties": {
                        "ResourceArn": {"Fn::GetAtt": ["LbAcl", "Arn"]},
                        "LogDestinationConfigs": [{"Fn::GetAtt": ["WafLogs", "Arn"]}],
                        "LoggingFilter": {"DefaultBehavior": "DROP"},
                    },
                },
            }
        },
        {"resources": [{"logical_id": "Trail", "usage": {"additional_copy": 1}}]},
    ),
]


def _cases() -> Iterator[tuple[dict, dict | None, str]]:
    for path in sorted(GOLDEN.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        yield spec["template"], spec.get("usage"), spec.get("environment", "production")
    for body, usage in EXTRA_CASES:
        yield body, usage, "production"


# --- the declarations ------------------------------------------------------------------------


def test_every_declared_key_is_read_by_its_pricer(monkeypatch: pytest.MonkeyPatch) -> None:
    read: set[tuple[str, str]] = set()
    check = Usage._check

    def recording(self: Usage, key: str) -> UsageKey:
        read.add((self.resource_type, key))
        return check(self, key)

    monkeypatch.setattr(Usage, "_check", recording)
    for body, usage, environment in _cases():
        est = price_body(body, usage, environment)
        assert not [i.notes for i in est.items if i.status == Status.NOT_PRICED]
    declared = {(t, k) for t, keys in declared_usage().items() for k in keys}
    assert declared - read == set()


#: Units-last naming (Infracost's usage guide): the suffix of a key says its unit.
SUFFIX_UNIT = {
    "_gb": "GB",
    "_kb": "KB",
    "_ms": "ms",
    "_days": "days",
    "_hours": "hours",
    "_seconds": "seconds",
    "_rate": "share",
    "_share": "share",
}


def test_declarations_name_their_unit_and_meaning() -> None:
    for rtype, keys in declared_usage().items():
        for name, key in keys.items():
            where = f"{rtype}.{name}"
            for suffix, unit in SUFFIX_UNIT.items():
                if name.endswith(suffix):  # "vCPU-hours" is hours too
                    assert key.unit == unit or key.unit.endswith(f"-{unit}"), where
            if isinstance(key.default, PerTransaction) and key.default.kb:
                assert name.endswith("_gb"), f"{where}: KB per transaction gives GB"
            assert 10 <= len(key.description) <= 200, where


def test_a_key_is_declared_once_per_type() -> None:
    key = UsageKey("monthly_requests", 1, "requests", "requests a month")
    with pytest.raises(ValueError, match="declares usage key monthly_requests twice"):
        prices("Test::Twice::Declared", service="x", usage=(key, key))
    assert "Test::Twice::Declared" not in all_pricers()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("monthlyRequests", 1, "requests", "requests a month"), "not snake_case"),
        (("monthly_requests", "many", "requests", "requests a month"), "not a usage form"),
        (("monthly_requests", 1, "", "requests a month"), "needs a unit"),
        (("monthly_requests", 1, "requests", "two\nlines"), "one-line description"),
    ],
)
def test_a_malformed_declaration_is_refused(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UsageKey(*args)


def test_the_default_profile_states_the_workload_not_the_defaults() -> None:
    doc = yaml.safe_load(PLATFORM_USAGE_PATH.read_text())
    assert set(doc) == {"version", "workload", "resources"}


# --- reading ---------------------------------------------------------------------------------


def _lambda_usage() -> Usage:
    tpl = Template(
        name="S", path="s", body={"Resources": {"Fn": {"Type": "AWS::Lambda::Function"}}}
    )
    return profile_with().for_resource(tpl.resources["Fn"], "production")


@pytest.mark.parametrize("read", ["get", "has", "is_explicit", "is_shared"])
def test_reading_an_undeclared_key_is_an_error(read: str) -> None:
    usage = _lambda_usage()
    with pytest.raises(UndeclaredUsageKey) as raised:
        getattr(usage, read)("monthly_request")
    assert str(raised.value) == (
        "AWS::Lambda::Function declares no usage key 'monthly_request'"
        " (did you mean 'monthly_requests'?)"
    )


def test_declared_keys_read_their_declared_defaults() -> None:
    usage = _lambda_usage()
    assert (usage.get("request_duration_ms"), usage.get("log_kb_per_request")) == (200, 1.0)
    assert usage.has("monthly_requests") and not usage.is_explicit("monthly_requests")
    assert not usage.has("monthly_events")  # derived: no value unless the profile sets one
    with pytest.raises(UnsetUsageKey, match="monthly_events has no value here"):
        usage.get("monthly_events")


def test_a_type_default_from_the_profile_replaces_the_declared_one() -> None:
    profile = profile_with({"defaults": {"AWS::Lambda::Function": {"request_duration_ms": 50}}})
    assert profile.for_type("AWS::Lambda::Function", "dev").get("request_duration_ms") == 50


def test_an_untyped_entry_sets_only_the_keys_a_type_declares() -> None:
    body = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function"},
            "Queue": {"Type": "AWS::SQS::Queue"},
        }
    }
    tpl = Template(name="S", path="s", body=body)
    profile = profile_with(
        {"resources": [{"match": "*", "usage": {"request_duration_ms": 50, "esm_pollers": 2}}]}
    )
    fn = profile.for_resource(tpl.resources["Fn"], "dev")
    queue = profile.for_resource(tpl.resources["Queue"], "dev")
    assert (fn.get("request_duration_ms"), queue.get("esm_pollers")) == (50, 2)
    assert set(fn.values) <= set(fn.declared) and set(queue.values) <= set(queue.declared)


def test_a_pricer_reading_an_undeclared_key_fails_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def careless(res: Resource, ctx: Context) -> Iterator[CostComponent]:
        yield from ctx.charge("Requests", "sqs.standard", ctx.usage.get("monthly_requestz"))

    declared = (UsageKey("monthly_requests", 1, "requests", "requests a month"),)
    spec = PricerSpec("Test::Careless::Thing", careless, "Test", declared)
    monkeypatch.setitem(base._REGISTRY, spec.resource_type, spec)
    est = price_body({"Resources": {"Thing": {"Type": spec.resource_type}}})
    line = item(est, "Thing")
    assert line.status == Status.NOT_PRICED
    assert line.notes == [
        "pricing failed: UndeclaredUsageKey: Test::Careless::Thing declares no usage key"
        " 'monthly_requestz' (did you mean 'monthly_requests'?)"
    ]


# --- the --usage file ------------------------------------------------------------------------


def test_a_usage_file_naming_an_undeclared_key_is_refused_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"Resources": {"Fn": {"Type": "AWS::Lambda::Function"}}}))
    usage = tmp_path / "my-usage.yaml"
    usage.write_text(
        "resources:\n  - match: '*'\n    type: AWS::Lambda::Function\n"
        "    usage: {request_duration: 300}\n"
    )
    rc = main(["report", "cost", "--after", str(template), "--usage", str(usage)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err == (
        f"govern: {usage}: resources[0].usage: AWS::Lambda::Function declares no usage key"
        " 'request_duration' (did you mean 'request_duration_ms'?)\n"
    )


# --- the generated reference -----------------------------------------------------------------


def test_the_usage_reference_is_current() -> None:
    assert (ROOT / USAGE_DOC).read_text() == render_markdown(all_pricers()), (
        f"{USAGE_DOC} is stale: run `{REGENERATE}`"
    )


def test_the_usage_reference_lists_every_declared_key_with_its_file() -> None:
    page = render_markdown(all_pricers())
    for rtype, spec in all_pricers().items():
        assert f"`{spec.func.__module__.replace('.', '/')}.py`" in page, rtype
        for key in spec.usage:
            row = f"| `{key.name}` | {key.unit} | {key.describe_default()} | {key.description} |"
            assert row in page, f"{rtype}.{key.name}"


def test_govern_prices_usage_prints_the_declarations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices", "usage", "--format", "json", "--type", "AWS::SQS::Queue"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["key"], r["default"], r["unit"]) for r in rows] == [
        ("monthly_requests", "100,000", "requests"),
        ("request_size_kb", "4", "KB"),
        ("esm_pollers", "5", "pollers"),
        ("long_poll_seconds", "20", "seconds"),
    ]
    assert main(["prices", "usage", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == render_markdown(all_pricers())
    assert main(["prices", "usage", "--type", "AWS::Foo::Bar"]) == 2
    assert capsys.readouterr().err == "govern: AWS::Foo::Bar is not a priced resource type\n"


def test_default_forms_read_as_the_page_says() -> None:
    assert UsageKey("a_gb", 2.5, "GB", "a quantity").describe_default() == "2.5"
    assert UsageKey("a", 1_000_000, "requests", "a count").describe_default() == "1,000,000"
    shared = PerTransaction(2, kb=True, months=3, split_by_type=True)
    assert UsageKey("b_gb", shared, "GB", "data").describe_default() == (
        "2 KB per transaction, kept 3 months, shared by the type's resources in the environment"
    )
    assert UsageKey("c", derived("from the template"), "x", "a thing").default == Derived(
        "from the template"
    )
