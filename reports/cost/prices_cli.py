"""``govern prices``: show the embedded price catalogue, rebuild it from the Price List API, or
list the usage keys the pricers declare.

    govern prices show [--region us-east-1] [--prices FILE] [--format text|json]
    govern prices refresh [--region R ...] [--key K ...] [--instance-family F ...]
                          [--db-instance-family F ...] [-o build/prices.yaml]
    govern prices usage [--type AWS::Lambda::Function] [--format text|markdown|json]

``usage --format markdown`` is the page ``docs/usage.md``.

``refresh`` needs AWS credentials (``pricing:GetProducts``); without them it says so in one line
and exits 2. The refreshed catalogue is written to ``-o`` (the embedded one is never
overwritten); pass it to ``govern report cost --prices FILE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from reports.cost.catalogue import Catalogue, CatalogueError, Price, load_catalogue
from reports.cost.pricing_api import (
    PricingError,
    make_client,
    refresh_catalogue,
    refresh_instance_families,
)
from reports.cost.render import quantity, unit_price
from reports.cost.resources import all_pricers
from reports.cost.usage_doc import render_json, render_markdown, render_text

EXIT_OK, EXIT_USAGE = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="prices_command", required=True, metavar="ACTION")
    show = sub.add_parser("show", help="print the price catalogue (source, date and grade per row)")
    show.add_argument("--prices", help="a catalogue file (default: the embedded one)")
    show.add_argument("--region", help="only this region (assumed regions shown expanded)")
    show.add_argument("--format", choices=("text", "json"), default="text")
    refresh = sub.add_parser(
        "refresh", help="rebuild the catalogue from the AWS Price List API (needs credentials)"
    )
    refresh.add_argument("--prices", help="the catalogue to start from (default: the embedded one)")
    refresh.add_argument(
        "--region",
        action="append",
        help="region to refresh (repeatable; default: every region of the catalogue)",
    )
    refresh.add_argument("--key", action="append", help="only this price key (repeatable)")
    refresh.add_argument(
        "--instance-family",
        action="append",
        default=[],
        metavar="FAMILY",
        help="add every size of this EC2 family (t3, m6i, c7g ...; repeatable)",
    )
    refresh.add_argument(
        "--db-instance-family",
        action="append",
        default=[],
        metavar="FAMILY",
        help="add every size of this RDS family (r6g, t4g, m5 ...; repeatable)",
    )
    refresh.add_argument("-o", "--output", default="build/prices.yaml", help="where to write it")
    refresh.add_argument("--endpoint-url", help=argparse.SUPPRESS)
    usage = sub.add_parser(
        "usage", help="the usage keys each pricer declares (default, unit, description)"
    )
    usage.add_argument("--type", dest="resource_type", help="only this CloudFormation type")
    usage.add_argument("--format", choices=("text", "markdown", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    if args.prices_command == "usage":
        return _usage(args)
    try:
        catalogue = load_catalogue(args.prices)
    except CatalogueError as exc:
        print(f"govern: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.prices_command == "show":
        return _show(catalogue, args)
    return _refresh(catalogue, args)


def format_rate(p: Price) -> str:
    if not p.is_tiered:
        return f"{unit_price(p.usd)} per {p.unit}"
    parts = []
    start = 0.0
    for size, rate in p.tiers:
        if size is None:
            parts.append(f"{unit_price(rate)} above {quantity(start)}")
            break
        parts.append(f"{unit_price(rate)} to {quantity(start + size)}")
        start += size
    return "; ".join(parts) + f" ({p.unit})"


def _rows(catalogue: Catalogue, region: str | None) -> list[Price]:
    if region is None:
        return catalogue.entries()
    if region not in catalogue.regions:
        return []
    base = catalogue.regions[region].get("assumed_from")
    keys = set(catalogue.keys(region)) | set(catalogue.keys(base) if base else [])
    rows = [catalogue.price(k, region) for k in sorted(keys)]
    return [r for r in rows if r is not None]


def _show(catalogue: Catalogue, args: argparse.Namespace) -> int:
    if args.region and args.region not in catalogue.regions:
        print(
            f"govern: region {args.region} is not in the catalogue "
            f"(regions: {', '.join(catalogue.regions)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    rows = _rows(catalogue, args.region)
    if args.format == "json":
        json.dump(
            [
                {
                    "region": p.region,
                    "key": p.key,
                    "service": p.service,
                    "description": p.description,
                    "unit": p.unit,
                    "tiers": [list(t) for t in p.tiers],
                    "source": p.source,
                    "as_of": p.as_of,
                    "grade": p.grade,
                    "assumed_from": p.assumed_from,
                }
                for p in rows
            ],
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return EXIT_OK
    print(f"Price catalogue: {catalogue.path}")
    print(f"Rule: {catalogue.pricing_rule}")
    for region, info in catalogue.regions.items():
        if args.region and region != args.region:
            continue
        assumed = info.get("assumed_from")
        count = len(catalogue.keys(region))
        line = f"  {region:<10} {info.get('name', '')}: {count} prices"
        if assumed:
            line += f"; otherwise ASSUMED equal to {assumed}"
        print(line)
    grades: dict[str, int] = {}
    for p in rows:
        grades[p.grade] = grades.get(p.grade, 0) + 1
    print("Grades: " + ", ".join(f"{g}: {n}" for g, n in sorted(grades.items())))
    print()
    width = max((len(p.key) for p in rows), default=10)
    for p in rows:
        flag = f" [assumed from {p.assumed_from}]" if p.assumed_from else ""
        print(
            f"{p.region:<10} {p.key:<{width}}  {p.grade}  {p.as_of or '—':<10}  "
            f"{format_rate(p)}{flag}\n{'':<{width + 12}}{p.source}"
        )
    print(f"\n{len(rows)} prices")
    return EXIT_OK


def _refresh(catalogue: Catalogue, args: argparse.Namespace) -> int:
    regions = args.region or list(catalogue.regions)
    families = bool(args.instance_family or args.db_instance_family)
    keys = args.key if args.key is not None or not families else []
    try:
        client = make_client(args.endpoint_url)
        data, result = refresh_catalogue(catalogue, client, regions, keys=keys)
        if families:
            more = refresh_instance_families(
                data,
                client,
                regions,
                ec2_families=args.instance_family,
                rds_families=args.db_instance_family,
            )
            result.refreshed += more.refreshed
            result.missing += more.missing
            result.requests += more.requests
    except PricingError as exc:
        print(f"govern: {exc}", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "# Price catalogue refreshed from the AWS Price List API by `govern prices refresh`.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )
    print(
        f"refreshed {len(result.refreshed)} prices in {len(regions)} region(s) with"
        f" {result.requests} request(s); {len(result.missing)} not found; wrote {out}"
    )
    for region, key, why in result.missing:
        print(f"  not refreshed: {region} {key}: {why}")
    return EXIT_OK


def _usage(args: argparse.Namespace) -> int:
    pricers = all_pricers()
    rtype = args.resource_type
    if rtype is not None and rtype not in pricers:
        print(f"govern: {rtype} is not a priced resource type", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "markdown":
        if rtype is not None:
            print("govern: --format markdown writes the whole page; drop --type", file=sys.stderr)
            return EXIT_USAGE
        sys.stdout.write(render_markdown(pricers))
    elif args.format == "json":
        sys.stdout.write(render_json(pricers, rtype))
    else:
        text = render_text(pricers, rtype)
        sys.stdout.write(text or f"{rtype} reads no usage keys\n")
    return EXIT_OK
