"""Writing the cost report: JSON (the data as is), CSV (one row per cost component) and HTML.

The HTML page is self-contained (inline CSS, inline SVG charts, a few lines of inline script for
filtering and printing) and is rendered by jinja2 with autoescape on. Every number on it is
formatted here, from the report data; the template only places strings.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).with_name("templates")
ENV_COLOURS = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2"]
BEFORE_COLOUR = "#94a3b8"
AFTER_COLOUR = "#0f766e"


# --- formatting -------------------------------------------------------------------------------


def _saving_class(value: float) -> str:
    return "good" if value >= 0.005 else ("bad" if value <= -0.005 else "")


def money(value: float | None, cents: bool = True) -> str:
    if value is None:
        return "—"
    sign = "−" if value < 0 else ""
    amount = abs(value)
    if cents:
        return f"{sign}${amount:,.2f}"
    return f"{sign}${amount:,.0f}"


def signed_money(value: float) -> str:
    """A saving: positive means cheaper after."""
    if abs(value) < 0.005:
        return "$0.00"
    return ("" if value > 0 else "−") + f"${abs(value):,.2f}"


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) < 0.05:
        return "0.0%"
    return f"{value:,.1f}%".replace("-", "−")


def quantity(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def unit_price(value: float | None) -> str:
    if value is None:
        return "not priced"
    if value >= 0.01:
        text = f"{value:,.4f}".rstrip("0")
        decimals = len(text.split(".")[1]) if "." in text else 0
        return f"${value:,.{max(decimals, 2)}f}"
    return f"${value:.10f}".rstrip("0")


# --- charts -----------------------------------------------------------------------------------


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        top = step * magnitude
        if top >= value:
            return float(top)
    return float(10 * magnitude)


def service_chart(
    services: list[dict[str, Any]], has_before: bool, limit: int = 12
) -> dict[str, Any]:
    """Grouped horizontal bars, before and after, per service (largest first)."""
    rows = [s for s in services if s["before"] > 0.005 or s["after"] > 0.005]
    if len(rows) > limit:
        rest = rows[limit - 1 :]
        rows = rows[: limit - 1] + [
            {
                "label": f"{len(rest)} other services",
                "before": sum(r["before"] for r in rest),
                "after": sum(r["after"] for r in rest),
            }
        ]
    label_w, bar_w, value_w = 270, 620, 160
    row_h = 34 if has_before else 24
    top = 28
    width = label_w + bar_w + value_w
    height = top + row_h * len(rows) + 10
    peak = _nice_max(max([r["before"] for r in rows] + [r["after"] for r in rows] + [0]))
    ticks = []
    for i in range(5):
        value = peak * i / 4
        ticks.append({"x": label_w + bar_w * i / 4, "label": money(value, cents=False)})
    bars = []
    for i, r in enumerate(rows):
        y = top + i * row_h
        entry = {
            "label": r["label"],
            "label_y": y + (row_h - 6) / 2 + 4,
            "after_y": y + (12 if has_before else 2),
            "after_w": round(max(bar_w * r["after"] / peak, 0.5 if r["after"] > 0 else 0), 1),
            "after_text": money(r["after"], cents=False),
            "before_y": y + 1,
            "before_w": round(max(bar_w * r["before"] / peak, 0.5 if r["before"] > 0 else 0), 1),
            "before_text": money(r["before"], cents=False),
            "text_y": y + (row_h - 6) / 2 + 4,
        }
        bars.append(entry)
    return {
        "width": width,
        "height": height,
        "label_w": label_w,
        "bar_w": bar_w,
        "top": top,
        "ticks": ticks,
        "bars": bars,
        "has_before": has_before,
        "before_colour": BEFORE_COLOUR,
        "after_colour": AFTER_COLOUR,
        "bar_h": 10 if has_before else 16,
        "value_x": label_w + bar_w + 8,
    }


def environment_chart(
    envs: list[dict[str, Any]], totals: dict[str, Any], has_before: bool
) -> dict[str, Any]:
    """Stacked bars (before, after) split by environment, scaled to the larger total."""
    label_w, bar_w = 70, 900
    width = label_w + bar_w + 10
    sides = [("Before", "before"), ("After", "after")] if has_before else [("Estimate", "after")]
    peak = max([totals["before"] if has_before else 0, totals["after"], 0.01])
    colour = {e["label"]: ENV_COLOURS[i % len(ENV_COLOURS)] for i, e in enumerate(envs)}
    rows = []
    for i, (title, key) in enumerate(sides):
        y = 10 + i * 48
        x = float(label_w)
        total = totals[key] or 0.0
        segments = []
        for e in envs:
            amount = e[key]
            if amount <= 0:
                continue
            w = bar_w * amount / peak
            share = 100 * amount / total if total else 0
            segments.append(
                {
                    "x": round(x, 1),
                    "w": round(max(w, 0.5), 1),
                    "colour": colour[e["label"]],
                    "label": f"{e['label']} {share:.0f}%"
                    if w > 90
                    else (f"{share:.0f}%" if w > 30 else ""),
                    "title": f"{e['label']}: {money(amount)} ({share:.1f}%)",
                    "text_x": round(x + 6, 1),
                }
            )
            x += w
        rows.append(
            {
                "title": title,
                "y": y,
                "text_y": y + 21,
                "segments": segments,
                "total": money(total, cents=False),
                "total_x": round(x + 6, 1),
            }
        )
    legend = [
        {"label": e["label"], "colour": colour[e["label"]], "x": label_w + i * 130}
        for i, e in enumerate(envs)
    ]
    return {
        "width": width + 80,
        "height": 10 + 48 * len(sides) + 26,
        "label_w": label_w,
        "rows": rows,
        "legend": legend,
        "legend_y": 10 + 48 * len(sides) + 4,
    }


BRIDGE_COLOURS = {
    "start": "#64748b",
    "end": AFTER_COLOUR,
    "lever-down": "#059669",
    "lever-up": "#dc2626",
    "security": "#d97706",
}


def bridge_chart(bridge: dict[str, Any]) -> dict[str, Any]:
    """A horizontal waterfall: today, each lever, each security addition, optimised.

    Every bar floats from the running total before it; the start and end bars stand on zero.
    Each bar carries its exact amount (``data-amount``) so a reader (or a test) can add them up.
    """
    bars_in = bridge["bars"]
    label_w, bar_w, value_w = 330, 560, 150
    row_h, top = 26, 28
    running, peak = 0.0, 0.0
    spans = []
    for bar in bars_in:
        if bar["kind"] in ("start", "end"):
            low, high = 0.0, bar["amount"]
            running = bar["amount"]
        else:
            low, high = sorted((running, running + bar["amount"]))
            running += bar["amount"]
        spans.append((low, high))
        peak = max(peak, high)
    peak = _nice_max(peak)
    scale = bar_w / peak
    rows = []
    for i, (bar, (low, high)) in enumerate(zip(bars_in, spans, strict=True)):
        y = top + i * row_h
        kind = bar["kind"]
        if kind == "lever":
            colour = BRIDGE_COLOURS["lever-down" if bar["amount"] <= 0 else "lever-up"]
        else:
            colour = BRIDGE_COLOURS[kind]
        amount = bar["amount"]
        text = money(amount) if kind in ("start", "end") else _signed_change(amount)
        rows.append(
            {
                "kind": kind,
                "key": bar["key"],
                "label": bar["label"],
                "label_y": y + row_h / 2 + 4,
                "x": round(label_w + low * scale, 2),
                "y": y + 4,
                "w": round(max((high - low) * scale, 1.0 if abs(amount) > 0 else 0.0), 2),
                "h": row_h - 8,
                "colour": colour,
                "amount": f"{amount:.6f}",
                "text": text,
                "text_x": round(label_w + high * scale + 6, 2),
                "connector_x": round(label_w + (high if amount >= 0 else low) * scale, 2)
                if kind != "end"
                else None,
                "connector_y1": y + row_h - 4,
                "connector_y2": y + row_h + 4,
            }
        )
    ticks = [
        {"x": round(label_w + bar_w * i / 4, 1), "label": money(peak * i / 4, cents=False)}
        for i in range(5)
    ]
    return {
        "width": label_w + bar_w + value_w,
        "height": top + row_h * len(rows) + 8,
        "label_w": label_w,
        "top": top,
        "ticks": ticks,
        "rows": rows,
    }


def _signed_change(value: float) -> str:
    """A change to the bill: "+$12.00" (up) or "−$12.00" (down)."""
    if abs(value) < 0.005:
        return "$0.00"
    return ("+" if value > 0 else "−") + f"${abs(value):,.2f}"


def _bridge_view(bridge: dict[str, Any] | None) -> dict[str, Any] | None:
    if bridge is None:
        return None
    pct = bridge["all_in_change_percent"]
    return {
        "definition": bridge["definition"],
        "today": money(bridge["today"]),
        "legacy": money(bridge["legacy"]),
        "optimised": money(bridge["optimised"]),
        "all_in": _signed_change(bridge["all_in_change"]),
        "all_in_up": bridge["all_in_change"] > 0,
        "all_in_percent": "—" if pct is None else _signed_percent(pct),
        "levers": signed_money(bridge["levers_saving"]),
        "levers_percent": percent(bridge["levers_saving_percent"]),
        "levers_percent_ex": percent(bridge["levers_saving_percent_excluding_organisation_fees"]),
        "security": money(bridge["security_additions"]),
        "organisation_fees": money(bridge["organisation_fees"]),
        "chart": bridge_chart(bridge),
        "sensitivity": [
            {
                "extra": f"+{row['extra_duration_percent']} %",
                "levers": signed_money(row["levers_saving"]),
                "all_in": _signed_change(row["all_in_change"]),
                "optimised": money(row["optimised"]),
            }
            for row in bridge["lambda_duration_sensitivity"]
        ],
        "duration_cost": money(bridge["lambda_duration_cost_after"]),
        "rows": [
            {
                "kind": b["kind"],
                "label": b["label"],
                "amount": money(b["amount"])
                if b["kind"] in ("start", "end")
                else _signed_change(b["amount"]),
                "count": b["count"],
                "drivers": [
                    f"{d['count']} × {d['label']}: {d['description']} ({signed_money(d['saving'])})"
                    for d in b["drivers"]
                ],
            }
            for b in bridge["bars"]
        ],
    }


def _signed_percent(value: float) -> str:
    if abs(value) < 0.05:
        return "0.0%"
    return ("+" if value > 0 else "−") + f"{abs(value):,.1f}%"


# --- view model -------------------------------------------------------------------------------


def _components(item: dict[str, Any] | None) -> list[dict[str, str]]:
    if not item:
        return []
    return [
        {
            "name": c["name"],
            "tier": c["tier"] or "",
            "quantity": quantity(c["monthly_quantity"]),
            "unit": c["unit"],
            "unit_price": unit_price(c["unit_price"]),
            "cost": "depends on usage"
            if c.get("depends_on_usage")
            else (money(c["monthly_cost"]) if c["monthly_cost"] is not None else "not priced"),
            "kind": "usage" if c["usage_based"] else "fixed",
            "note": c["note"],
            "service": c["service"],
        }
        for c in item["components"]
    ]


def view_model(data: dict[str, Any]) -> dict[str, Any]:
    has_before = data["has_before"]
    bridge_systems = (data.get("bridge") or {}).get("systems", {})
    bridge_envs = (data.get("bridge") or {}).get("environments", {})
    totals = data["totals"]
    envs = data["environments"]
    sections = []
    for env in envs:
        rows = [r for r in data["resources"] if r["environment"] == env["label"]]
        priced = [r for r in rows if r["status"] != "free"]
        free = [r for r in rows if r["status"] == "free"]
        priced.sort(key=lambda r: (-max(r["before"], r["after"]), r["name"]))
        sections.append(
            {
                "label": env["label"],
                "before": money(env["before"]),
                "after": money(env["after"]),
                "saving": signed_money(env["saving"]),
                "saving_percent": percent(env["saving_percent"]),
                "free_count": len(free),
                "free_types": sorted({r["resource_type"] for r in free}),
                "rows": [
                    {
                        "name": r["name"],
                        "type": r["resource_type"],
                        "service": r["service"],
                        "change": r["change"],
                        "status": r["status"],
                        "before": money(r["before"]) if r["before_item"] else "—",
                        "after": money(r["after"]) if r["after_item"] else "—",
                        "saving": signed_money(r["saving"]),
                        "saving_class": _saving_class(r["saving"]),
                        "changes": [f"{k}: {b} → {a}" for k, b, a in r["attribute_changes"]],
                        "attributes": "; ".join(
                            f"{k}: {v}"
                            for k, v in (
                                (r["after_item"] or r["before_item"])["attributes"]
                            ).items()
                        ),
                        "notes": sorted(
                            set(
                                (r["before_item"] or {}).get("notes", [])
                                + (r["after_item"] or {}).get("notes", [])
                            )
                        ),
                        "before_components": _components(r["before_item"]),
                        "after_components": _components(r["after_item"]),
                    }
                    for r in priced
                ],
            }
        )
    drivers = [
        {
            "label": d["label"],
            "service": d["service"],
            "description": d["description"],
            "count": d["count"],
            "environments": ", ".join(d["environments"]),
            "saving": signed_money(d["saving"]),
            "share": percent(d["share_of_saving"]),
            "saving_class": _saving_class(d["saving"]),
        }
        for d in data["drivers"]
    ]
    a = data["assumptions"]
    w = a["workload"]
    prices = [
        {
            "region": p["region"],
            "key": p["key"],
            "description": p["description"],
            "rate": _rate_text(p),
            "grade": p["grade"],
            "as_of": p["as_of"] or "—",
            "source": p["source"],
            "assumed": f"assumed = {p['assumed_from']}" if p["assumed_from"] else "",
        }
        for p in a["prices"]
    ]
    ce = data["cost_explorer"]
    return {
        "title": data["title"],
        "generated_at": data["generated_at"],
        "has_before": has_before,
        "before": money(totals["before"]),
        "after": money(totals["after"]),
        "saving": signed_money(totals["saving"]),
        "saving_percent": percent(totals["saving_percent"]),
        "annual_saving": signed_money(totals["annual_saving"]),
        "saving_positive": totals["saving"] > 0,
        "org_fees": _org_fees(totals, has_before),
        "bridge": _bridge_view(data.get("bridge")),
        "service_chart": service_chart(data["services"], has_before),
        "env_chart": environment_chart(envs, totals, has_before),
        "systems": [
            {
                "label": d["label"],
                "before": money(d["before"]),
                "after": money(d["after"]),
                "saving": signed_money(d["saving"]),
                "saving_percent": percent(d["saving_percent"]),
                "today": money(bridge_systems[d["label"]]["today"])
                if d["label"] in bridge_systems
                else "—",
                "all_in": _signed_change(bridge_systems[d["label"]]["all_in_change"])
                if d["label"] in bridge_systems
                else "—",
            }
            for d in data.get("systems", [])
        ],
        "environments": [
            {
                "label": e["label"],
                "before": money(e["before"]),
                "after": money(e["after"]),
                "saving": signed_money(e["saving"]),
                "saving_percent": percent(e["saving_percent"]),
                "transactions": f"{w['monthly_transactions'].get(e['label'], 0):,.0f}",
                "today": money(bridge_envs[e["label"]]["today"])
                if e["label"] in bridge_envs
                else "—",
                "all_in": _signed_change(bridge_envs[e["label"]]["all_in_change"])
                if e["label"] in bridge_envs
                else "—",
            }
            for e in envs
        ],
        "services": [
            {
                "label": s["label"],
                "before": money(s["before"]),
                "after": money(s["after"]),
                "saving": signed_money(s["saving"]),
                "saving_percent": percent(s["saving_percent"]),
            }
            for s in data["services"]
            if s["before"] > 0.005 or s["after"] > 0.005
        ],
        "drivers": drivers,
        "sections": sections,
        "not_priced": data["not_priced"],
        "warnings": data.get("warnings", []),
        "depends_on_usage": data["depends_on_usage"],
        "workload": {
            "peak": f"{w['peak_transactions_per_minute']:,.0f}",
            "shape": ", ".join(f"{v:g}" for v in w["hourly_shape"]),
            "peak_hours": f"{w['peak_hour_equivalents']:g}",
            "days": f"{w['days_per_month']:g}",
            "envs": [
                {
                    "label": e,
                    "share": f"{w['environment_share'][e]:.0%}",
                    "transactions": f"{w['monthly_transactions'][e]:,.0f}",
                }
                for e in w["monthly_transactions"]
            ],
        },
        "usage_files": a["usage_files"],
        "pricing_rule": a["pricing_rule"],
        "hours": f"{a['hours_per_month']:g}",
        "catalogue": a["catalogue"],
        "regions": a["regions"],
        "price_dates": a["price_dates"],
        "grades": ", ".join(f"{g}: {n}" for g, n in a["grades"].items()),
        "sources": a["sources"],
        "prices": prices,
        "method": a["method"],
        "inputs": data["inputs"],
        "counts": data["counts"],
        "ce": _ce_view(ce),
    }


def _org_fees(totals: dict[str, Any], has_before: bool) -> dict[str, str] | None:
    fees = totals["organisation_fees"]
    if not (fees["before"] or fees["after"]):
        return None
    ex = totals["excluding_organisation_fees"]
    return {
        "before": money(fees["before"]),
        "after": money(fees["after"]),
        "ex_before": money(ex["before"]),
        "ex_after": money(ex["after"]),
        "ex_saving": signed_money(ex["saving"]),
        "ex_percent": percent(ex["saving_percent"]),
    }


def _rate_text(p: dict[str, Any]) -> str:
    tiers = p["tiers"]
    if len(tiers) == 1:
        return f"{unit_price(tiers[0][1])} per {p['unit']}"
    parts, start = [], 0.0
    for size, rate in tiers:
        if size is None:
            parts.append(f"{unit_price(rate)} above {quantity(start)}")
            break
        parts.append(f"{unit_price(rate)} to {quantity(start + size)}")
        start += size
    return "; ".join(parts) + f" ({p['unit']})"


def _ce_view(ce: dict[str, Any]) -> dict[str, Any]:
    data = ce.get("data")
    out: dict[str, Any] = {"status": ce["status"], "available": data is not None}
    if data is None:
        return out

    def rows(kind: str, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return [
            {
                "key": r["key"] + (f" ({names[r['key']]})" if names and r["key"] in names else ""),
                "before": money(r["before_daily"]),
                "after": money(r["after_daily"]),
                "monthly": signed_money(r["saving_daily"] * 730 / 24),
                "percent": percent(r["saving_percent"]),
            }
            for r in data[kind]["rows"]
        ]

    def window(kind: str, side: str) -> str:
        w = data[kind][side]
        if not w:
            return "—"
        text = f"{w['start']} to {w['end']} (end exclusive, {w['days']} complete days)"
        if w["estimated"]:
            text += f"; {len(w['estimated_days'])} day(s) still estimated by Cost Explorer"
        return text

    fc = data["forecast"]
    total = data.get("total")
    out.update(
        {
            "since": data["since"],
            "metric": data["metric"],
            "excluded": ", ".join(data["excluded_record_types"]) or "none",
            "tag_key": data["tag_key"],
            "before_period": window("by_service", "before"),
            "after_period": window("by_service", "after"),
            "estimated": bool(
                (data["by_service"]["before"] or {}).get("estimated")
                or (data["by_service"]["after"] or {}).get("estimated")
            ),
            "total": total
            and {
                "before": money(total["before_daily"]),
                "after": money(total["after_daily"]),
                "monthly": signed_money(total["saving_monthly_equivalent"]),
                "percent": percent(total["saving_percent"]),
            },
            "services": rows("by_service"),
            "tags": rows("by_tag"),
            "accounts": rows("by_account", data.get("account_names")),
            "forecast": fc
            and {
                "total": money(fc["total"]),
                "period": f"{fc['start']} to {fc['end']}",
                "months": [
                    {
                        "month": m["month"],
                        "actual": money(m["actual_to_date"]),
                        "rest": money(m["forecast_rest"]),
                        "expected": money(m["expected_total"]),
                        "range": "—"
                        if m["low"] is None or m["high"] is None
                        else f"{money(m['low'])} – {money(m['high'])}",
                    }
                    for m in fc["months"]
                ],
            },
            "anomalies": [
                {
                    "start": an["start"],
                    "end": an["end"] or "open",
                    "services": ", ".join(an["services"]) or an["dimension"],
                    "impact": money(an["total_impact"]),
                    "score": f"{an['score']:g}",
                }
                for an in (data["anomalies"] or [])
            ],
            "anomalies_available": data["anomalies"] is not None,
            "errors": data["errors"],
            "requests": data["requests"],
            "api_cost": money(data["api_cost_usd"]),
        }
    )
    return out


# --- writers ----------------------------------------------------------------------------------


def render_html(data: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("cost.html.j2").render(v=view_model(data))


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


CSV_FIELDS = [
    "side",
    "environment",
    "region",
    "stack",
    "logical_id",
    "name",
    "resource_type",
    "status",
    "component",
    "service",
    "tier",
    "usage_based",
    "monthly_quantity",
    "unit",
    "unit_price_usd",
    "monthly_cost_usd",
    "depends_on_usage",
]


def render_csv(data: dict[str, Any]) -> str:
    """One row per cost component (and one per free or not-priced resource)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in data["resources"]:
        for side in ("before", "after"):
            item = r[f"{side}_item"]
            if item is None:
                continue
            base = {
                "side": side,
                "environment": item["environment"],
                "region": item["region"],
                "stack": item["stack"],
                "logical_id": item["logical_id"],
                "name": item["name"],
                "resource_type": item["resource_type"],
                "status": item["status"],
            }
            if not item["components"]:
                writer.writerow(
                    {
                        **base,
                        "component": "",
                        "monthly_cost_usd": 0 if item["status"] == "free" else "",
                    }
                )
            for c in item["components"]:
                writer.writerow(
                    {
                        **base,
                        "component": c["name"],
                        "service": c["service"],
                        "tier": c["tier"] or "",
                        "usage_based": c["usage_based"],
                        "monthly_quantity": c["monthly_quantity"],
                        "unit": c["unit"],
                        "unit_price_usd": "" if c["unit_price"] is None else c["unit_price"],
                        "monthly_cost_usd": "" if c["monthly_cost"] is None else c["monthly_cost"],
                        "depends_on_usage": c.get("depends_on_usage", False),
                    }
                )
    return out.getvalue()
