"""The HTML cost report in headless Chromium: totals equal the JSON's, charts render, filtering
and printing work; a screenshot is saved to ``build/screenshots/cost.png``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser_support import launch

from governance.cli import main
from reports.cost.usage import PLATFORM_USAGE_PATH

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


def _side(memory: int, arch: str, nats: int, retention: int | None, tag: str) -> dict:
    res: dict = {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "MemorySize": memory,
                "Architectures": [arch],
                "FunctionName": "process-payment",
                "LoggingConfig": {"LogGroup": {"Ref": "Logs"}},
                "Tags": [{"Key": "Environment", "Value": tag}],
            },
            "Metadata": {"aws:cdk:path": "Payments/ProcessPayment/Resource"},
        },
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": retention} if retention else {},
            "Metadata": {"aws:cdk:path": "Payments/ProcessPayment/Logs/Resource"},
        },
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": "payment-transactions", "BillingMode": "PAY_PER_REQUEST"},
            "Metadata": {"aws:cdk:path": "Payments/Transactions/Resource"},
        },
        "Api": {
            "Type": "AWS::ApiGateway::RestApi",
            "Metadata": {"aws:cdk:path": "Payments/Api/Resource"},
        },
        "Role": {"Type": "AWS::IAM::Role"},
        "Detector": {"Type": "AWS::GuardDuty::Detector", "Properties": {"Enable": True}},
        "Acl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {"Rules": [{"Name": "rate"}]},
            "Metadata": {"aws:cdk:path": "Payments/Acl"},
        },
    }
    for i in range(nats):
        res[f"Nat{i}"] = {
            "Type": "AWS::EC2::NatGateway",
            "Metadata": {"aws:cdk:path": f"Network/Nat{i}"},
        }
    return {"Resources": res}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("cost-report")
    pairs = []
    for env, nats_after in (("dev", 0), ("staging", 1), ("production", 3)):
        before = tmp / f"{env}-before.json"
        after = tmp / f"{env}-after.json"
        before.write_text(json.dumps(_side(3008, "x86_64", 3, None, env)))
        after.write_text(json.dumps(_side(512, "arm64", nats_after, 7, env)))
        pairs += ["--pair", f"env={env},before={before},after={after}"]
    html, data = tmp / "cost.html", tmp / "cost.json"
    usage = ["--usage", str(PLATFORM_USAGE_PATH)]
    assert main(["report", "cost", *pairs, *usage, "-o", str(html), "-o", str(data)]) == 0
    return html, json.loads(data.read_text())


def _money(text: str) -> float:
    value = float(re.sub(r"[^0-9.]", "", text))
    return -value if text.strip().startswith("−") else value


@pytest.fixture(scope="module")
def page(report: tuple[Path, dict]):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_page(viewport={"width": 1280, "height": 1000})
        pg.goto(report[0].as_uri())
        yield pg
        browser.close()


def test_totals_shown_equal_the_json(page, report: tuple[Path, dict]) -> None:
    totals = report[1]["totals"]
    for testid, key in (
        ("total-before", "before"),
        ("total-after", "after"),
        ("total-saving", "saving"),
    ):
        shown = page.get_by_test_id(testid).inner_text()
        assert _money(shown) == pytest.approx(round(totals[key], 2), abs=0.005), testid
    pct = page.get_by_test_id("saving-percent").inner_text()
    assert float(pct.rstrip("%")) == pytest.approx(totals["saving_percent"], abs=0.05)
    for env in report[1]["environments"]:
        row = page.locator(f'#table-environments tr[data-env="{env["label"]}"]')
        assert _money(row.locator("td.env-before").inner_text()) == pytest.approx(
            round(env["before"], 2)
        )
        assert _money(row.locator("td.env-after").inner_text()) == pytest.approx(
            round(env["after"], 2)
        )


def test_bridge_bars_add_up(page, report: tuple[Path, dict]) -> None:
    """The waterfall's bars, read off the page: today + each step = optimised, each bar's shown
    value is its JSON amount, and the headline figures are the JSON's."""
    bridge = report[1]["bridge"]
    bars = page.locator("#chart-bridge rect.bridge-bar")
    values = page.locator("#chart-bridge text.bridge-value")
    assert bars.count() == values.count() == len(bridge["bars"]) >= 4
    amounts, kinds = [], []
    for i in range(bars.count()):
        bar = bars.nth(i)
        kinds.append(bar.get_attribute("data-kind"))
        amount = float(bar.get_attribute("data-amount"))
        amounts.append(amount)
        shown = values.nth(i).text_content() or ""
        assert _money(shown) == pytest.approx(round(amount, 2), abs=0.005), shown
        assert (bar.bounding_box() or {}).get("width", 0) > 0 or abs(amount) < 0.005
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert {"lever", "security"} <= set(kinds)
    assert amounts[0] + sum(amounts[1:-1]) == pytest.approx(amounts[-1], abs=1e-4)
    assert amounts[0] == pytest.approx(bridge["today"], abs=1e-4)
    assert amounts[-1] == pytest.approx(report[1]["totals"]["after"], abs=1e-4)
    levers = sum(a for a, k in zip(amounts, kinds, strict=True) if k == "lever")
    assert -levers == pytest.approx(report[1]["totals"]["saving"], abs=1e-4)
    for testid, key in (
        ("bridge-today", "today"),
        ("bridge-all-in", "all_in_change"),
        ("bridge-security", "security_additions"),
    ):
        shown = page.get_by_test_id(testid).inner_text()
        assert _money(shown) == pytest.approx(round(bridge[key], 2), abs=0.005), testid


def test_charts_render(page, report: tuple[Path, dict]) -> None:
    services = [s for s in report[1]["services"] if s["before"] > 0.005 or s["after"] > 0.005]
    bars = page.locator("#chart-services rect.bar-before")
    assert bars.count() == len(services)
    for i in range(bars.count()):
        box = bars.nth(i).bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
    chart = page.locator("#chart-services").bounding_box()
    assert chart is not None and chart["width"] > 600 and chart["height"] > 100
    segments = page.locator("#chart-environments rect.segment")
    assert segments.count() >= 5  # three environments before, two with cost after at least
    widths = [segments.nth(i).bounding_box()["width"] for i in range(segments.count())]
    assert all(w > 0 for w in widths)


def test_filter_and_print(page) -> None:
    rows = page.locator("details.resource")
    total = rows.count()
    page.fill("#filter", "natgateway")
    visible = [rows.nth(i).is_visible() for i in range(total)]
    assert 0 < sum(visible) < total
    page.fill("#filter", "")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.evaluate("Array.from(document.querySelectorAll('details')).every(d => d.open)")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert not page.evaluate(
        "Array.from(document.querySelectorAll('details.resource')).some(d => d.open)"
    )
    page.emulate_media(media="print")
    assert not page.locator(".tools").is_visible()
    page.emulate_media(media="screen")


def test_no_external_resources(report: tuple[Path, dict]) -> None:
    html = report[0].read_text()
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "<script src" not in html and "<link" not in html


def test_screenshot(page) -> None:
    out = ROOT / "build" / "screenshots" / "cost.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out), full_page=False)
    assert out.stat().st_size > 10_000
