"""Rebuilding the price catalogue from the AWS Price List API (boto3 ``pricing``).

For each catalogue row that names its Price List product (``price_list``: service code,
attribute filters, a ``usagetype`` pattern), :func:`refresh_catalogue` asks ``GetProducts`` for
that product in each region, reads the ``PriceList`` JSON strings (``terms.OnDemand.*.
priceDimensions``: one dimension per volume tier, with ``beginRange``/``endRange``), converts the
rate to the catalogue's unit and writes a new catalogue. Rows it cannot refresh keep their old
price and are listed in the result.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from reports.cost.catalogue import Catalogue

PRICE_LIST_SOURCE = "AWS Price List API (pricing:GetProducts)"


class PricingError(Exception):
    """The Price List API could not be used; one line for the user."""


@dataclass(frozen=True)
class Dimension:
    begin: float
    end: float | None
    usd: float
    unit: str
    description: str


@dataclass
class RefreshResult:
    """What a refresh did, row by row."""

    refreshed: list[tuple[str, str]] = field(default_factory=list)  # (region, key)
    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (region, key, why)
    requests: int = 0


def parse_price_item(item: str | dict[str, Any]) -> tuple[dict[str, Any], list[Dimension]]:
    """``(product attributes, on-demand price dimensions sorted by beginRange)``."""
    data = json.loads(item) if isinstance(item, str) else item
    attributes = ((data.get("product") or {}).get("attributes")) or {}
    dims: list[Dimension] = []
    for term in ((data.get("terms") or {}).get("OnDemand") or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = (dim.get("pricePerUnit") or {}).get("USD")
            if usd is None:
                continue
            end_raw = dim.get("endRange", "Inf")
            dims.append(
                Dimension(
                    begin=float(dim.get("beginRange", 0) or 0),
                    end=None if end_raw in (None, "Inf", "") else float(end_raw),
                    usd=float(usd),
                    unit=str(dim.get("unit", "")),
                    description=str(dim.get("description", "")),
                )
            )
    return attributes, sorted(dims, key=lambda d: d.begin)


def tiers_from_dimensions(dims: list[Dimension], per: float) -> list[list[float | None]]:
    """Catalogue tiers ``[[size in units or None, USD per unit], ...]`` from price dimensions."""
    out: list[list[float | None]] = []
    for d in dims:
        size = None if d.end is None else (d.end - d.begin) / per
        out.append([size, round(d.usd * per, 10)])
    if out and out[-1][0] is not None:
        out[-1][0] = None
    return out


def get_products(
    client: Any, service_code: str, filters: dict[str, str], region: str
) -> tuple[list[str], int]:
    """Every ``PriceList`` item of ``GetProducts`` (paginated by hand), and the request count."""
    request_filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    for fieldname, value in filters.items():
        request_filters.append({"Type": "TERM_MATCH", "Field": fieldname, "Value": str(value)})
    items: list[str] = []
    token: str | None = None
    calls = 0
    while True:
        params: dict[str, Any] = {
            "ServiceCode": service_code,
            "Filters": request_filters,
            "FormatVersion": "aws_v1",
        }
        if token:
            params["NextToken"] = token
        resp = client.get_products(**params)
        calls += 1
        items.extend(resp.get("PriceList") or [])
        token = resp.get("NextToken")
        if not token:
            return items, calls


def refresh_catalogue(
    catalogue: Catalogue,
    client: Any,
    regions: list[str],
    *,
    keys: list[str] | None = None,
    today: dt.date | None = None,
    base_region: str = "us-east-1",
) -> tuple[dict[str, Any], RefreshResult]:
    """A new catalogue document with every refreshable row re-read from the Price List API."""
    from botocore.exceptions import BotoCoreError, ClientError

    today = today or dt.date.today()
    data = copy.deepcopy(catalogue.data)
    base_rows = (data.get("prices") or {}).get(base_region) or {}
    result = RefreshResult()
    for region in regions:
        rows = data.setdefault("prices", {}).setdefault(region, {})
        data.setdefault("regions", {}).setdefault(region, {"name": region})
        for key, base in base_rows.items():
            if keys is not None and key not in keys:
                continue
            spec = base.get("price_list")
            if not isinstance(spec, dict):
                continue
            try:
                items, calls = get_products(
                    client, spec["servicecode"], spec.get("filters") or {}, region
                )
            except (ClientError, BotoCoreError) as exc:
                raise PricingError(_describe(exc)) from None
            result.requests += calls
            pattern = re.compile(spec.get("usagetype", ".*"))
            chosen = None
            for item in items:
                attributes, dims = parse_price_item(item)
                if dims and pattern.search(str(attributes.get("usagetype", ""))):
                    chosen = (attributes, dims)
                    break
            if chosen is None:
                result.missing.append((region, key, f"no product matched ({len(items)} returned)"))
                continue
            attributes, dims = chosen
            entry = dict(rows.get(key) or base)
            per = float(entry.get("per", 1))
            tiers = tiers_from_dimensions(dims, per)
            entry.pop("usd", None)
            entry.pop("tiers", None)
            if len(tiers) == 1:
                entry["usd"] = tiers[0][1]
            else:
                entry["tiers"] = tiers
            entry["source"] = f"{PRICE_LIST_SOURCE}, usagetype {attributes.get('usagetype', '?')}"
            entry["as_of"] = today.isoformat()
            entry["grade"] = "A"
            rows[key] = entry
            result.refreshed.append((region, key))
        if rows and data["regions"][region].get("assumed_from"):
            data["regions"][region]["assumption"] = (
                f"Rows refreshed from the Price List API on {today.isoformat()} are this region's"
                f" own; any other row is assumed equal to {data['regions'][region]['assumed_from']}."
            )
    return data, result


def _describe(exc: Exception) -> str:
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: cannot query the AWS Price List API"
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "Unknown")
        if code in ("ThrottlingException", "Throttling"):
            return f"the Price List API throttled the refresh ({code}); retry later"
        if code in ("AccessDeniedException", "AccessDenied"):
            return f"access denied to the Price List API ({code}): the credentials need pricing:GetProducts"
        return f"Price List API error ({code}): {err.get('Message', '')}".strip()
    return f"Price List API error: {exc}"


def make_client(endpoint_url: str | None = None, region: str = "us-east-1") -> Any:
    """A Price List API client; :class:`PricingError` when no credentials exist."""
    import boto3
    from botocore.config import Config

    session = boto3.Session()
    if session.get_credentials() is None:
        raise PricingError(
            "no AWS credentials: cannot refresh from the AWS Price List API"
            " (the embedded catalogue is unchanged)"
        )
    return session.client(
        "pricing",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )
