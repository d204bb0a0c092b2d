"""Fuzz: mutated templates through `govern check` in-process, beside a sentinel template.

Whatever a mutation does, the run ends with exit code 0, 1 or 2, no exception escapes, the
output is the documented JSON, a refused file costs one stderr line naming it, the sentinel is
always judged, and no rule raises (a rule that raises shows up as an undecidable finding
"rule X raised ...", which is a bug to fix in that rule). Seeded, so a failure is replayable;
the number of cases keeps the module to a few seconds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from fuzz_support import base_template, mutate, render, rule_types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.cli import main
from governance.engine import evaluate
from governance.policy import Policy
from governance.template import Template

SENTINEL = Path(__file__).parent.parent / "data" / "templates" / "bad.json"
SEEDS = range(12)
CASES_PER_SEED = 25


def _judge(capsys, path: Path) -> tuple[int, dict, list[str]]:
    code = main(["check", str(path), str(SENTINEL), "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err.splitlines()


@pytest.mark.parametrize("seed", SEEDS)
def test_mutated_templates_never_break_the_run(capsys, tmp_path, seed):
    rng = random.Random(seed)
    types = rule_types()
    for case in range(CASES_PER_SEED):
        body = mutate(base_template(rng, types), rng, types)
        suffix, text = render(body, rng)
        path = tmp_path / f"case{case}{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, doc, err = _judge(capsys, path)
        where = f"seed {seed} case {case}: {text[:300]!r}"
        assert code in (0, 1, 2), where
        assert len(err) <= 1, (where, err)
        if err:
            assert code == 2 and err[0].startswith(f"govern: {path}: "), (where, err)
        sentinel = {f["logical_id"] for f in doc["findings"] if f["stack"] == "bad"}
        assert "Bucket" in sentinel, where
        raised = [f["message"] for f in doc["findings"] if " raised " in f["message"]]
        assert raised == [], (where, raised)


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["0.0.0.0/0", "::/0", "alias/aws/sqs", "", "AWS::Region", "Cond"])
)
INTRINSIC_NAMES = st.sampled_from(
    ["Ref", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Select", "Fn::GetAtt", "Fn::ImportValue"]
)
VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        | st.builds(lambda k, v: {k: v}, INTRINSIC_NAMES, inner)
    ),
    max_leaves=12,
)


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "120")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    rtype=st.sampled_from(rule_types()),
    props=st.dictionaries(
        st.sampled_from(__import__("fuzz_support").PROPERTY_NAMES), VALUES, max_size=6
    ),
    top=st.dictionaries(
        st.sampled_from(["Condition", "DeletionPolicy", "Metadata", "DependsOn"]),
        VALUES,
        max_size=2,
    ),
)
def test_no_rule_raises_on_any_property_shape(rtype, props, top):
    top = {k: v for k, v in top.items() if k != "Condition" or isinstance(v, str)}
    body = {
        "Parameters": {"P": {"Type": "String", "Default": "p"}},
        "Conditions": {"Cond": {"Fn::Equals": [{"Ref": "P"}, "p"]}},
        "Resources": {"R": {"Type": rtype, "Properties": props, **top}},
    }
    result = evaluate([Template(name="t", path="t.json", body=body)], Policy(suffix="dev"))
    raised = [f.message for f in result.findings if " raised " in f.message]
    assert raised == []


#: Resources the rule tests judge (compliant and not, every rule's resource types), collected
#: once from tests/rule_tests by recording what they pass to the engine: realistic nesting for
#: mutations to damage deep inside. Our own test data, regenerated the same way when rules grow.
SEED_RESOURCES = json.loads(
    (Path(__file__).parent / "data" / "rule_test_resources.json").read_text()
)


@pytest.mark.parametrize("seed", range(6))
def test_deep_mutations_of_real_resource_shapes_never_make_a_rule_raise(seed):
    from fuzz_support import HOSTILE_VALUES, _places, _set

    rng = random.Random(seed)
    pool = [r for shapes in SEED_RESOURCES.values() for r in shapes]
    policy = Policy(environment="dev", suffix="dev")
    for case in range(500):
        resources = {f"R{i}": json.loads(json.dumps(r)) for i, r in enumerate(rng.sample(pool, 4))}
        for _ in range(rng.randint(1, 3)):
            lid = rng.choice(list(resources))
            places = [p for p in _places(resources[lid]) if p and p[0] not in ("Type", "Condition")]
            if places:
                value = json.loads(json.dumps(rng.choice(HOSTILE_VALUES)))
                resources[lid] = _set(resources[lid], rng.choice(places), value)
        body = {"Parameters": {"P": {"Type": "String", "Default": "p"}}, "Resources": resources}
        result = evaluate([Template(name="t", path="t.json", body=body)], policy)
        raised = [f.message for f in result.findings if " raised " in f.message]
        assert raised == [], (seed, case, json.dumps(resources)[:500], raised)


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "csv", "html"])
def test_mutated_templates_never_break_the_compliance_report(capsys, tmp_path, fmt):
    rng = random.Random(fmt)
    types = rule_types()
    for case in range(12):
        suffix, text = render(mutate(base_template(rng, types), rng, types), rng)
        path = tmp_path / f"case{case}{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        argv = ["report", "compliance", str(path), str(SENTINEL), "--no-checkov", "--format", fmt]
        code = main(argv)
        out, err = capsys.readouterr()
        where = f"{fmt} case {case}: {text[:300]!r}"
        assert code in (0, 2), (where, err)
        assert "internal error" not in err and "Traceback" not in err, (where, err)
        assert "Bucket" in out, where  # the sentinel's bucket is in every format
