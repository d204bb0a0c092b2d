"""Hostile names and reasons in every report format: CSV cells stay cells and never start a
formula on any line, JUnit stays well-formed XML, SARIF stays strict JSON, and the HTML report
shows them as text in a real browser (issue 13)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from governance.engine import evaluate
from governance.policy import Policy
from governance.template import Template
from reports.compliance import csvout, junit, render, sarif
from reports.compliance.model import report_from_result

HOSTILE = [
    "=1+1",
    "Plain\r=1+1",
    "Plain\n@SUM(A1:A9)",
    "Plain\r\n+CMD|' /C calc'!A0",
    "\t-2+3",
    "<script>window.__pwned=1;alert(1)</script>",
    '"><img src=x onerror="window.__pwned=2;alert(2)">',
    "</script><script>window.__pwned=3</script>",
    "javascript:window.__pwned=4",
    "{{ 7*7 }}",
    "ctl\x00\x01\x1b\x7f\ufffe",
    "lone\ud800surrogate",
]


def hostile_template(names: list[str]) -> Template:
    resources = {}
    for i, name in enumerate(names):
        resources[name] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": name},
            "Metadata": {
                "aws:cdk:path": f"Stack/{name}/Resource",
                "governance:exceptions": [
                    {"rule": "TAG-001", "id": "govern::TAG-001", "reason": f"reason {i} {name}"}
                ],
            },
        }
    return Template(name="Hostile", path="hostile.template.json", body={"Resources": resources})


def _report(names: list[str]):
    policy = Policy(environment="dev", suffix="dev")
    result = evaluate([hostile_template(names)], policy)
    return report_from_result(result, policy, checkov=False)


@pytest.fixture(scope="module")
def report():
    """Every hostile name, a lone surrogate included: reading refuses those in files, so this
    builds the template in-process to prove the writers hold even so."""
    return _report(HOSTILE)


@pytest.fixture(scope="module")
def page_report():
    """The hostile names a template file can carry (no lone surrogate), for the HTML page."""
    return _report([n for n in HOSTILE if "\ud800" not in n])


FORMULA = re.compile(r"^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")


def test_csv_cells_never_start_a_formula_on_any_line(report):
    text = csvout.to_csv(report)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + len(report.findings)  # no cell split into a new row
    assert all(len(r) == len(csvout.COLUMNS) for r in rows)
    for row in rows[1:]:
        for cell in row:
            for line in re.split(r"\r\n|\r|\n", cell):
                assert not FORMULA.match(line), (cell, line)
    ids = {r[csvout.COLUMNS.index("logical_id")] for r in rows[1:]}
    assert "'=1+1" in ids and "Plain\r'=1+1" in ids and "Plain\n'@SUM(A1:A9)" in ids


def test_csv_quotes_every_cell_with_a_line_break():
    assert csvout._row(["a\rb", "c\nd", "e"]) == '"a\rb","c\nd",e\n'
    assert csvout._safe("x\r=1") == "x\r'=1"
    assert csvout._safe("ok\x00") == "ok\\x00"


def test_junit_is_well_formed_xml(report):
    text = junit.to_junit(report)
    root = ET.fromstring(text)
    names = {case.get("name") for case in root.iter("testcase")}
    assert "TAG-001 <script>window.__pwned=1;alert(1)</script>" in names
    assert any("ctl\\x00\\x01\\x1b" in n for n in names)
    assert any("lone\\ud800surrogate" in n for n in names)


def test_sarif_is_strict_json(report):
    text = sarif.render_sarif(report, Path("."))
    log = json.loads(text)
    json.dumps(log, ensure_ascii=False).encode("utf-8")  # no unpaired surrogate survives
    names = {
        loc["logicalLocations"][0]["name"]
        for res in log["runs"][0]["results"]
        for loc in res["locations"]
        if loc.get("logicalLocations")
    }
    assert "lone\\ud800surrogate" in names


def test_html_escapes_and_json_is_parseable(page_report):
    html = render.render_html(page_report)
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned=1" in html
    json.loads(render.render_json(page_report))


@pytest.mark.browser
def test_hostile_names_never_execute_in_the_browser(page_report, tmp_path):
    from browser_support import launch
    from playwright.sync_api import sync_playwright

    html = render.render_html(page_report)
    page_path = tmp_path / "hostile.html"
    page_path.write_text(html, encoding="utf-8")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        for row in page.locator("#findings-table tbody tr.finding").all()[:5]:
            row.click()
        pwned = page.evaluate("() => window.__pwned")
        text = page.locator("body").inner_text()
        browser.close()
    assert dialogs == [] and pwned is None
    assert "<script>window.__pwned=1;alert(1)</script>" in text
    assert '"><img src=x onerror="window.__pwned=2;alert(2)">' in text
