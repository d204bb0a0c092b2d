"""``govern report cost``: arguments, outputs, and one-line errors (exit code 2)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from governance.cli import main
from reports.cost.cli import CostUsageError, parse_pair
from reports.cost.usage import PLATFORM_USAGE_PATH


def _write(tmp_path: Path, name: str, resources: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Resources": resources}))
    return path


def _fn(memory: int, arch: str, env: str = "dev") -> dict:
    return {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "MemorySize": memory,
                "Architectures": [arch],
                "FunctionName": "process-payment",
                "Tags": [{"Key": "Environment", "Value": env}],
            },
            "Metadata": {"aws:cdk:path": "App/ProcessPayment/Resource"},
        }
    }


def test_parse_pair() -> None:
    assert parse_pair("env=dev,before=a,after=b") == ("dev", "a", "b")
    assert parse_pair("env=dev,after=b") == ("dev", None, "b")
    with pytest.raises(CostUsageError, match="env= and after= are required"):
        parse_pair("before=a,after=b")
    with pytest.raises(CostUsageError, match="unknown field 'colour'"):
        parse_pair("env=dev,after=b,colour=red")


def test_pairs_make_one_report_over_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = _write(tmp_path, "b.json", _fn(3008, "x86_64"))
    a = _write(tmp_path, "a.json", _fn(512, "arm64"))
    out = tmp_path / "r.json"
    rc = main(
        [
            "report",
            "cost",
            "--pair",
            f"env=dev,before={b},after={a}",
            "--pair",
            f"env=production,before={b},after={a}",
            "--usage",
            str(PLATFORM_USAGE_PATH),
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    assert "saving" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert [e["label"] for e in data["environments"]] == ["dev", "production"]
    prod = [e for e in data["environments"] if e["label"] == "production"][0]
    dev = [e for e in data["environments"] if e["label"] == "dev"][0]
    assert prod["saving"] == pytest.approx(
        dev["saving"] * 100, rel=1e-6
    )  # dev carries 1 % of the traffic
    assert data["totals"]["saving"] == pytest.approx(prod["saving"] + dev["saving"])
    assert data["drivers"][0]["description"] == "configuration 3,008 MB x86_64 → 512 MB arm64"


def test_environment_label_comes_from_the_environment_tag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _write(tmp_path, "a.json", _fn(512, "arm64", env="staging"))
    assert main(["report", "cost", "--after", str(a)]) == 0
    data = json.loads(capsys.readouterr().out)  # JSON on standard output by default
    assert [e["label"] for e in data["environments"]] == ["staging"]
    assert data["has_before"] is False


def test_csv_has_one_row_per_component(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = _write(tmp_path, "b.json", _fn(3008, "x86_64"))
    a = _write(tmp_path, "a.json", _fn(512, "arm64"))
    assert (
        main(
            [
                "report",
                "cost",
                "--before",
                str(b),
                "--after",
                str(a),
                "--env",
                "dev",
                "--usage",
                str(PLATFORM_USAGE_PATH),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["side"] for r in rows} == {"before", "after"}
    requests = [r for r in rows if r["component"] == "Requests"]
    assert len(requests) == 2 and all(r["unit"] == "1M requests" for r in requests)
    json_total = sum(
        float(r["monthly_cost_usd"]) for r in rows if r["side"] == "after" and r["monthly_cost_usd"]
    )
    argv = ["--before", str(b), "--after", str(a), "--env", "dev"]
    assert main(["report", "cost", *argv, "--usage", str(PLATFORM_USAGE_PATH)]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["after"] == pytest.approx(
        json_total, abs=1e-4
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--before", "{a}"], "govern: --before needs --after"),
        ([], "govern: give --after PATH (and --before PATH), or one --pair per environment"),
        (["--after", "{missing}"], "no such file or directory"),
        (["--after", "{a}", "--cost-explorer"], "govern: --cost-explorer needs --since YYYY-MM-DD"),
        (["--after", "{a}", "-o", "{tmp}/report.txt"], "cannot tell the format from the suffix"),
        (["--after", "{a}", "--usage", "{bad_usage}"], "no pricer declares usage key 'bogus'"),
        (["--after", "{a}", "--prices", "{missing}"], "cannot read"),
        (
            ["--pair", "env=dev,after={a}", "--pair", "env=dev,after={a}"],
            "each environment may appear in one pair only",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    a = _write(tmp_path, "a.json", _fn(512, "arm64"))
    bad_usage = tmp_path / "usage.yaml"
    bad_usage.write_text("resources:\n  - match: '*'\n    usage: {bogus: 1}\n")
    values = {"a": a, "missing": tmp_path / "missing", "tmp": tmp_path, "bad_usage": bad_usage}
    rc = main(["report", "cost", *[arg.format(**values) for arg in argv]])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert "Traceback" not in err


def test_estimate_only_html(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.json", _fn(512, "arm64", env="production"))
    out = tmp_path / "r.html"
    assert main(["report", "cost", "--after", str(a), "-o", str(out)]) == 0
    page = out.read_text()
    assert 'data-testid="total-after"' in page
    assert 'data-testid="total-before"' not in page and "What drives the saving" not in page
    assert "Actual spend (Cost Explorer)" in page and "not requested" in page


def test_without_a_usage_file_only_fixed_costs_are_totalled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A foreign template gets no payment workload: usage-based components show their unit
    price as "depends on usage"; the total is the fixed costs (a NAT Gateway's hours here)."""
    body = {
        "Api": {"Type": "AWS::ApiGateway::RestApi"},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 1024}},
        "Nat": {"Type": "AWS::EC2::NatGateway"},
    }
    a = _write(tmp_path, "sample.json", body)
    out = tmp_path / "r.json"
    assert (
        main(["report", "cost", "--after", str(a), "-o", str(out), "-o", str(tmp_path / "r.html")])
        == 0
    )
    printed = capsys.readouterr().out
    assert "fixed costs only" in printed
    data = json.loads(out.read_text())
    assert data["totals"]["after"] == pytest.approx(730 * 0.045)
    assert data["depends_on_usage"]["usage_stated"] is False
    comps = [c for r in data["resources"] for c in (r["after_item"] or {}).get("components", [])]
    usage = [c for c in comps if c["depends_on_usage"]]
    assert {c["name"] for c in usage} >= {"Requests", "Data processed"}
    assert all(c["monthly_cost"] is None and c["unit_price"] > 0 for c in usage)
    html = (tmp_path / "r.html").read_text()
    assert "depends on usage" in html and "these totals are fixed costs only" in html


def test_a_folder_holds_govern_checks_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-template file is one line on stderr and listed on the page, the other templates
    are priced, exit code 2 (as `govern check`); two `template.json` in different folders are two
    stacks: every resource is a row and the rows add up to the total."""
    for folder, count in (("a", 2), ("b", 3)):
        (tmp_path / "in" / folder).mkdir(parents=True)
        nats = {f"Nat{i}": {"Type": "AWS::EC2::NatGateway"} for i in range(count)}
        _write(tmp_path / "in" / folder, "template.json", nats)
    (tmp_path / "in" / "package.json").write_text('{"name": "not-a-template"}')
    out = tmp_path / "r.json"
    rc = main(["report", "cost", "--after", str(tmp_path / "in"), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip().splitlines() == [
        f"govern: {tmp_path / 'in' / 'package.json'}: not a CloudFormation template"
        " (no Resources mapping)"
    ]
    data = json.loads(out.read_text())
    assert [e["path"] for e in data["inputs"]["not_read"]] == [
        str(tmp_path / "in" / "package.json")
    ]
    rows = data["resources"]
    assert len(rows) == 5
    assert len({r["name"] for r in rows}) == 5
    assert sum(r["after"] for r in rows) == pytest.approx(data["totals"]["after"])
    assert data["totals"]["after"] == pytest.approx(5 * 730 * 0.045)
