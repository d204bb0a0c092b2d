"""The HTML report in headless Chromium (Debian's package): counts, filters, escaping, a look."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_support import launch

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.synth]


@pytest.fixture(scope="module")
def page(hostile_html):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        requests: list[str] = []
        dialogs: list[str] = []
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(hostile_html.as_uri())
        page.wait_for_load_state("load")
        page.requests = requests  # type: ignore[attr-defined]
        page.dialogs = dialogs  # type: ignore[attr-defined]
        yield page
        browser.close()


def _findings_json(hostile_html: Path) -> dict:
    return json.loads(hostile_html.with_suffix(".json").read_text())


def _count(page, name: str) -> int:
    return int(page.locator(f'[data-count="{name}"]').inner_text())


def test_counts_shown_match_the_findings_json(page, hostile_html):
    data = _findings_json(hostile_html)
    summary = data["summary"]["findings"]
    for name in ("error", "warning", "info", "acknowledged"):
        assert _count(page, name) == summary[name], name
    assert _count(page, "exceptions") == len(data["exceptions"])
    assert _count(page, "resources") == len(data["inventory"])
    assert page.locator("#findings-table tbody tr.finding").count() == len(data["findings"])
    for status, n in data["summary"]["requirements"].items():
        assert _count(page, "req-" + status.replace(" ", "-")) == n, status
    assert page.locator("#shown-count").inner_text() == str(len(data["findings"]))


def test_filters_and_search_narrow_the_table(page, hostile_html):
    data = _findings_json(hostile_html)
    rows = page.locator("#findings-table tbody tr.finding:visible")
    total = len(data["findings"])
    acked = sum(1 for f in data["findings"] if f["status"] == "acknowledged")
    assert 0 < acked < total
    page.select_option("#f-status", "acknowledged")
    assert rows.count() == acked
    assert page.locator("#shown-count").inner_text() == str(acked)
    page.select_option("#f-source", "cdk-nag")
    assert rows.count() == sum(
        1 for f in data["findings"] if f["status"] == "acknowledged" and f["source"] == "cdk-nag"
    )
    page.click("#f-reset")
    assert rows.count() == total
    page.select_option("#f-req", "3.5.1")
    assert rows.count() == sum(1 for f in data["findings"] if "3.5.1" in f["pci_dss"])
    page.click("#f-reset")
    page.fill("#f-search", "jane.doe@example.com")
    assert rows.count() == sum(
        1
        for f in data["findings"]
        if (f["exception"] or {}).get("approver") == "jane.doe@example.com"
    )
    page.click("#f-reset")
    assert rows.count() == total


def test_hostile_names_are_shown_as_text(page):
    assert page.dialogs == []  # no alert() ran
    assert page.locator("#inventory-table").get_by_text("<script>alert(1)</script>").count() >= 1
    evil = page.locator("#findings-table b.resource", has_text="Evil<script>")
    assert evil.count() >= 1
    assert page.locator("img").count() == 0
    assert page.evaluate("document.scripts.length") == 1  # the report's own script only


def test_no_network_request_and_a_screenshot_for_review(page, hostile_html):
    assert [u for u in page.requests if not u.startswith("file://")] == []
    out = ROOT / "build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    page.click("#f-reset")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "compliance.png"))
    page.fill("#f-search", "Evil")
    page.locator("#findings").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('findings').scrollIntoView()")
    page.screenshot(path=str(out / "compliance-findings.png"))
    page.click("#f-reset")
    page.emulate_media(media="print")
    assert page.locator(".filters").is_hidden()
    page.screenshot(path=str(out / "compliance-print.png"))
    page.emulate_media(media="screen")
    assert (out / "compliance.png").stat().st_size > 10_000
