"""The price catalogue: prices by region and key, each with its source, date and grade.

The embedded catalogue is ``prices.yaml`` beside this module; ``govern prices refresh`` writes a
new one from the AWS Price List API. A region may be *assumed* from another (``assumed_from``):
its prices are the other region's, flagged as assumed so the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PATH = Path(__file__).with_name("prices.yaml")


class CatalogueError(Exception):
    """The price catalogue is unreadable or malformed; the message names the key."""


@dataclass(frozen=True, slots=True)
class Price:
    """One price: a single rate, or volume tiers (``size`` in units; ``None`` = the rest)."""

    key: str
    region: str
    service: str
    description: str
    unit: str
    per: float  # base quantities in one unit (1,000,000 for "1M requests")
    tiers: tuple[tuple[float | None, float], ...]
    source: str
    as_of: str | None
    grade: str
    assumed_from: str | None = None  # set when the region's price is another region's

    @property
    def is_tiered(self) -> bool:
        return len(self.tiers) > 1

    @property
    def usd(self) -> float:
        """The first (or only) rate."""
        return self.tiers[0][1]

    def split(self, units: float, already: float = 0.0) -> list[tuple[str | None, float, float]]:
        """Split ``units`` into ``(tier label, units, rate)`` rows, after ``already`` units used.

        ``already`` is what other resources of the same account and region consumed before,
        since AWS applies volume tiers to the account's monthly total.
        """
        if not self.is_tiered:
            return [(None, units, self.usd)]
        rows: list[tuple[str | None, float, float]] = []
        low, high = already, already + units
        start = 0.0
        current: tuple[str | None, float, float] | None = None
        for size, rate in self.tiers:
            end = float("inf") if size is None else start + size
            label = _tier_label(start, None if size is None else end, self.unit)
            take = min(high, end) - max(low, start)
            if take > 0:
                rows.append((label, take, rate))
            if current is None and low < end:
                current = (label, 0.0, rate)
            if end >= high:
                break
            start = end
        if not rows and current is not None:
            rows.append(current)  # no usage: show the rate of the tier the account is in
        return rows


@dataclass
class Catalogue:
    """Prices by region, plus what the report must say about them."""

    data: dict[str, Any]
    path: str = str(CATALOGUE_PATH)
    _cache: dict[tuple[str, str], Price | None] = field(default_factory=dict, repr=False)

    @property
    def hours_per_month(self) -> float:
        return float(self.data.get("hours_per_month", 730))

    @property
    def currency(self) -> str:
        return str(self.data.get("currency", "USD"))

    @property
    def pricing_rule(self) -> str:
        return str(self.data.get("pricing_rule", "")).strip()

    @property
    def regions(self) -> dict[str, dict[str, Any]]:
        return self.data.get("regions") or {}

    @property
    def sources(self) -> dict[str, str]:
        return {k: str(v).strip() for k, v in (self.data.get("sources") or {}).items()}

    def region_assumption(self, region: str) -> str | None:
        info = self.regions.get(region) or {}
        text = info.get("assumption")
        return str(text).strip() if text and info.get("assumed_from") else None

    def price(self, key: str, region: str) -> Price | None:
        """The price of ``key`` in ``region``; ``None`` when the catalogue has none."""
        cache_key = (key, region)
        if cache_key in self._cache:
            return self._cache[cache_key]
        found = self._lookup(key, region, assumed_from=None, depth=0)
        self._cache[cache_key] = found
        return found

    def _lookup(self, key: str, region: str, assumed_from: str | None, depth: int) -> Price | None:
        if depth > 4:
            return None
        by_region = (self.data.get("prices") or {}).get(region) or {}
        raw = by_region.get(key)
        if raw is not None:
            return _parse_price(key, region, raw, assumed_from)
        base = (self.regions.get(region) or {}).get("assumed_from")
        if base:
            found = self._lookup(key, base, assumed_from=base, depth=depth + 1)
            if found is not None:
                return Price(**{**_as_kwargs(found), "region": region, "assumed_from": base})
        return None

    def keys(self, region: str) -> list[str]:
        return sorted((self.data.get("prices") or {}).get(region) or {})

    def entries(self) -> list[Price]:
        """Every price row actually written in the catalogue (assumed regions not expanded)."""
        out = []
        for region, rows in (self.data.get("prices") or {}).items():
            for key, raw in (rows or {}).items():
                out.append(_parse_price(key, region, raw, None))
        return out

    def used_sources(self, prices: list[Price]) -> dict[str, str]:
        """The ``sources`` entries named by these prices (by the first word of their source)."""
        names = self.sources
        out: dict[str, str] = {}
        for p in prices:
            for name, text in names.items():
                if name in p.source:
                    out[name] = text
        return dict(sorted(out.items()))


def _as_kwargs(p: Price) -> dict[str, Any]:
    return {
        "key": p.key,
        "region": p.region,
        "service": p.service,
        "description": p.description,
        "unit": p.unit,
        "per": p.per,
        "tiers": p.tiers,
        "source": p.source,
        "as_of": p.as_of,
        "grade": p.grade,
        "assumed_from": p.assumed_from,
    }


def _parse_price(key: str, region: str, raw: Any, assumed_from: str | None) -> Price:
    where = f"prices.{region}.{key}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where} must be a mapping")
    if "tiers" in raw:
        tiers_raw = raw["tiers"]
        if not isinstance(tiers_raw, list) or not tiers_raw:
            raise CatalogueError(f"{where}.tiers must be a non-empty list of [size, usd]")
        tiers = []
        for i, row in enumerate(tiers_raw):
            if not (isinstance(row, list) and len(row) == 2):
                raise CatalogueError(f"{where}.tiers[{i}] must be [size or null, usd]")
            size, usd = row
            if size is not None and not isinstance(size, (int, float)):
                raise CatalogueError(f"{where}.tiers[{i}] size must be a number or null")
            if not isinstance(usd, (int, float)):
                raise CatalogueError(f"{where}.tiers[{i}] usd must be a number")
            tiers.append((None if size is None else float(size), float(usd)))
        if tiers[-1][0] is not None:
            tiers.append((None, tiers[-1][1]))  # the last rate continues
    elif isinstance(raw.get("usd"), (int, float)):
        tiers = [(None, float(raw["usd"]))]
    else:
        raise CatalogueError(f"{where} needs `usd` (a number) or `tiers`")
    for required in ("service", "unit", "source", "grade"):
        if not raw.get(required):
            raise CatalogueError(f"{where}.{required} is missing")
    per = raw.get("per", 1)
    if not isinstance(per, (int, float)) or per <= 0:
        raise CatalogueError(f"{where}.per must be a positive number")
    as_of = raw.get("as_of")
    return Price(
        key=key,
        region=region,
        service=str(raw["service"]),
        description=str(raw.get("description") or key),
        unit=str(raw["unit"]),
        per=float(per),
        tiers=tuple(tiers),
        source=str(raw["source"]),
        as_of=None if as_of is None else str(as_of),
        grade=str(raw["grade"]),
        assumed_from=assumed_from,
    )


def _tier_label(start: float, end: float | None, unit: str) -> str:
    if start == 0 and end is not None:
        return f"first {_short(end)} {unit}"
    if end is None:
        return f"over {_short(start)} {unit}"
    return f"next {_short(end - start)} {unit}"


def _short(n: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size and (n / size) == round(n / size, 2):
            return f"{n / size:g}{suffix}"
    return f"{n:,.0f}"


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and check a catalogue (the embedded one by default)."""
    target = Path(path) if path else CATALOGUE_PATH
    if path is None:
        return _embedded()
    return _read(target)


@cache
def _embedded() -> Catalogue:
    return _read(CATALOGUE_PATH)


def _read(target: Path) -> Catalogue:
    try:
        data = yaml.safe_load(target.read_text())
    except OSError as exc:
        raise CatalogueError(f"{target}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{target}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("prices"), dict):
        raise CatalogueError(f"{target}: not a price catalogue (no `prices` mapping)")
    catalogue = Catalogue(data=data, path=str(target))
    for region, rows in data["prices"].items():
        if region not in catalogue.regions:
            raise CatalogueError(f"{target}: prices for {region} but no regions.{region} entry")
        for key, raw in (rows or {}).items():
            _parse_price(key, region, raw, None)
    for region, info in catalogue.regions.items():
        base = (info or {}).get("assumed_from")
        if base and base not in data["prices"]:
            raise CatalogueError(f"{target}: regions.{region}.assumed_from {base!r} has no prices")
    return catalogue
