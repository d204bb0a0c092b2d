"""Rebuilding the price catalogue from the AWS Price List API (boto3 ``pricing``).

For each catalogue row that names its Price List product (``price_list``: service code,
attribute filters, a ``usagetype`` pattern), :func:`refresh_catalogue` asks ``GetProducts`` for
that product in each region, reads the ``PriceList`` JSON strings (``terms.OnDemand.*.
priceDimensions``: one dimension per volume tier, with ``beginRange``/``endRange``), converts the
rate to the catalogue's unit and writes a new catalogue. Rows it cannot refresh keep their old
price and are listed in the result. A refreshed row loses its ``check`` (the figure its old source
recorded, which the catalogue tests compare with ``usd``).
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
            entry.pop("check", None)  # the figure of the old source no longer applies
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


# --- instance families: rows the catalogue does not have yet ---------------------------------

#: Price List filters for Linux, shared-tenancy, on-demand EC2 instances.
EC2_INSTANCE_FILTERS = {
    "productFamily": "Compute Instance",
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "licenseModel": "No License required",
}
#: Price List ``databaseEngine`` → CloudFormation ``Engine`` (the engines without a licence fee).
RDS_ENGINES = {
    "PostgreSQL": "postgres",
    "MySQL": "mysql",
    "MariaDB": "mariadb",
    "Aurora PostgreSQL": "aurora-postgresql",
    "Aurora MySQL": "aurora-mysql",
}
RDS_INSTANCE_FILTERS = {"productFamily": "Database Instance", "deploymentOption": "Single-AZ"}


def _family(instance_type: str) -> str:
    name = instance_type.removeprefix("db.")
    return name.split(".", 1)[0]


def refresh_instance_families(
    data: dict[str, Any],
    client: Any,
    regions: list[str],
    *,
    ec2_families: list[str] = (),  # type: ignore[assignment]
    rds_families: list[str] = (),  # type: ignore[assignment]
    today: dt.date | None = None,
) -> RefreshResult:
    """Add (or update) a row for every size of the EC2 and RDS instance families asked for, in
    each region, from ``GetProducts``; each row keeps its ``price_list`` so later refreshes find it.

    ``ec2.instance.<type>`` (Linux, shared tenancy, on-demand) and ``rds.<engine>.<class>``
    (Single-AZ, the engines without a licence fee); ``data`` is changed in place.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    today = today or dt.date.today()
    result = RefreshResult()
    wanted_ec2, wanted_rds = set(ec2_families), set(rds_families)
    for region in regions:
        rows = data.setdefault("prices", {}).setdefault(region, {})
        data.setdefault("regions", {}).setdefault(region, {"name": region})
        try:
            if wanted_ec2:
                items, calls = get_products(client, "AmazonEC2", EC2_INSTANCE_FILTERS, region)
                result.requests += calls
                found = _instance_rows(items, "BoxUsage:", wanted_ec2, today, rds=False)
                _merge(rows, found, region, result)
                _missing(wanted_ec2, found, region, result, "EC2")
            if wanted_rds:
                items, calls = get_products(client, "AmazonRDS", RDS_INSTANCE_FILTERS, region)
                result.requests += calls
                found = _instance_rows(items, "InstanceUsage:", wanted_rds, today, rds=True)
                _merge(rows, found, region, result)
                _missing(wanted_rds, found, region, result, "RDS")
        except (ClientError, BotoCoreError) as exc:
            raise PricingError(_describe(exc)) from None
    return result


def _instance_rows(
    items: list[str], usage_prefix: str, families: set[str], today: dt.date, *, rds: bool
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        attributes, dims = parse_price_item(item)
        itype = str(attributes.get("instanceType", ""))
        usagetype = str(attributes.get("usagetype", ""))
        if not dims or _family(itype) not in families or usage_prefix not in usagetype:
            continue
        if rds:
            engine = RDS_ENGINES.get(str(attributes.get("databaseEngine", "")))
            if engine is None or "IOOptimized" in usagetype:
                continue
            key = f"rds.{engine}.{itype}"
            service = "Amazon Relational Database Service"
            what = f"{attributes.get('databaseEngine')} {itype} Single-AZ on-demand"
            filters = {**RDS_INSTANCE_FILTERS, "instanceType": itype}
            filters["databaseEngine"] = str(attributes.get("databaseEngine"))
        else:
            key = f"ec2.instance.{itype}"
            service = "Amazon Elastic Compute Cloud - Compute"
            what = f"{itype} Linux on-demand"
            filters = {**EC2_INSTANCE_FILTERS, "instanceType": itype}
        usd = dims[0].usd
        if usd <= 0:
            continue
        out[key] = {
            "service": service,
            "description": what,
            "unit": "hour",
            "usd": usd,
            "source": f"{PRICE_LIST_SOURCE}, usagetype {usagetype}",
            "as_of": today.isoformat(),
            "grade": "A",
            "price_list": {
                "servicecode": "AmazonRDS" if rds else "AmazonEC2",
                "filters": filters,
                "usagetype": re.escape(
                    usagetype.split("-", 1)[-1] if "-" in usagetype else usagetype
                )
                + "$",
            },
        }
    return out


def _merge(
    rows: dict[str, Any], found: dict[str, dict[str, Any]], region: str, result: RefreshResult
) -> None:
    for key, entry in sorted(found.items()):
        rows[key] = entry
        result.refreshed.append((region, key))


def _missing(
    families: set[str], found: dict[str, Any], region: str, result: RefreshResult, what: str
) -> None:
    have = {_family(k.rsplit(".", 2)[-2] + "." + k.rsplit(".", 1)[-1]) for k in found}
    for family in sorted(families - have):
        result.missing.append((region, f"{what} family {family}", "no product matched"))
