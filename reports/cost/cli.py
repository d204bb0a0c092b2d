"""``govern report cost``: the before/after cost report for finance.

    govern report cost --before build/cdk.out.dev.legacy --after build/cdk.out.dev [--env dev]
    govern report cost --pair env=dev,before=A,after=B --pair env=production,before=C,after=D
    options: [--usage usage.yaml ...] [--prices prices.yaml] [--region us-east-1]
             [-o build/reports/cost.html -o build/reports/cost.json] [--format html|json|csv]
             [--cost-explorer --since YYYY-MM-DD [--months 3] [--tag-key CostCenter]
              [--cost-metric amortized|unblended] [--include-credits]]

``--pair`` (repeatable) puts several environments in one report; ``before=`` may be left out for
an estimate without comparison. Each input is a cloud assembly, a template or a folder of
templates. ``-o`` is repeatable; the format follows the file's suffix unless ``--format`` is
given; without ``-o`` the report goes to standard output (JSON by default).

Exit codes: 0 report written; 2 bad input or usage (one line on stderr). As with ``govern check``,
a file that is not a template is one line on stderr, the other inputs are priced and the report
is written (listing the file), and the exit code is 2. Cost Explorer problems
(no credentials, throttling, access denied) are one line on stderr and a note on the page; the
estimate is written anyway.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from governance.template import InputError, load_inputs
from reports.cost.catalogue import CatalogueError, load_catalogue
from reports.cost.cost_explorer import Actuals, CostExplorerError, fetch_actuals, make_client
from reports.cost.estimate import DEFAULT_REGION, Assembly, environment_of, estimate
from reports.cost.model import Comparison, Estimate
from reports.cost.render import render_csv, render_html, render_json
from reports.cost.report import build_report
from reports.cost.resources import declared_usage
from reports.cost.systems import manifest_stack_tags
from reports.cost.usage import UsageError, load_usage

EXIT_OK, EXIT_USAGE = 0, 2
FORMATS = ("html", "json", "csv")


class CostUsageError(Exception):
    """Bad arguments or input for the cost report; printed as one line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--before", help="cloud assembly (or template) before optimisation")
    parser.add_argument("--after", help="cloud assembly (or template) after optimisation")
    parser.add_argument(
        "--env", help="environment label of --before/--after (default: their Environment tag)"
    )
    parser.add_argument(
        "--pair",
        action="append",
        default=[],
        metavar="env=NAME,before=PATH,after=PATH",
        help="one environment of the report (repeatable); before= may be omitted",
    )
    parser.add_argument(
        "--usage",
        action="append",
        default=[],
        help="usage profile (YAML; repeatable, each layered over the previous). Without one,"
        " usage-based components show their unit price as 'depends on usage' and only fixed"
        " costs are totalled; the payment platform's is reports/cost/usage/payments.yaml",
    )
    parser.add_argument("--prices", help="price catalogue (default: the embedded one)")
    parser.add_argument(
        "--region",
        default=DEFAULT_REGION,
        help=f"region of templates whose environment is unknown (default {DEFAULT_REGION})",
    )
    parser.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        help="file to write (repeatable; format from the suffix .html, .json or .csv)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="output format (default: from -o's suffix)"
    )
    parser.add_argument(
        "--cost-explorer",
        action="store_true",
        help="add actual spend, forecast and anomalies from Cost Explorer (needs credentials)",
    )
    parser.add_argument("--since", help="date of the optimisation (YYYY-MM-DD) for --cost-explorer")
    parser.add_argument(
        "--months",
        type=int,
        default=3,
        help="longest window compared on each side, in months of 30 days (default 3); both"
        " windows have the same number of complete days",
    )
    parser.add_argument(
        "--cost-metric",
        choices=("amortized", "unblended"),
        default="amortized",
        help="Cost Explorer metric (default amortized: Savings Plans and RIs spread)",
    )
    parser.add_argument(
        "--include-credits",
        action="store_true",
        help="keep credits, refunds and tax (left out by record type by default)",
    )
    parser.add_argument(
        "--tag-key", default="CostCenter", help="cost-allocation tag (default CostCenter)"
    )
    parser.add_argument("--today", help=argparse.SUPPRESS)
    parser.add_argument("--ce-endpoint-url", help=argparse.SUPPRESS)


def parse_pair(text: str) -> tuple[str, str | None, str]:
    """``env=dev,before=A,after=B`` → ``("dev", "A", "B")``."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            raise CostUsageError(f"--pair {text!r}: expected env=NAME,before=PATH,after=PATH")
        key, value = part.split("=", 1)
        key = key.strip()
        if key not in ("env", "before", "after"):
            raise CostUsageError(f"--pair {text!r}: unknown field {key!r} (env, before, after)")
        fields[key] = value.strip()
    if not fields.get("env") or not fields.get("after"):
        raise CostUsageError(f"--pair {text!r}: env= and after= are required")
    return fields["env"], fields.get("before") or None, fields["after"]


def _load(path: str, label: str, problems: list[InputError]) -> Assembly:
    """The templates under ``path``; a file that is not a template is reported (one line on
    stderr, listed on the page) and the others are priced, as ``govern check`` does."""
    templates, errors = load_inputs([path])
    if not templates:
        if errors:
            for err in errors[1:]:
                print(f"govern: {err.path}: {err.problem}", file=sys.stderr)
            raise CostUsageError(f"{errors[0].path}: {errors[0].problem}")
        raise CostUsageError(f"{path}: no CloudFormation template found")
    for err in errors:
        print(f"govern: {err.path}: {err.problem}", file=sys.stderr)
    problems.extend(errors)
    return Assembly(
        environment=label, templates=templates, paths=(path,), stack_tags=manifest_stack_tags(path)
    )


def _pairs(args: argparse.Namespace) -> list[tuple[str | None, str | None, str]]:
    pairs: list[tuple[str | None, str | None, str]] = [parse_pair(p) for p in args.pair]
    if args.before or args.after:
        if not args.after:
            raise CostUsageError("--before needs --after")
        pairs.append((args.env, args.before, args.after))
    if not pairs:
        raise CostUsageError("give --after PATH (and --before PATH), or one --pair per environment")
    labels = [p[0] for p in pairs if p[0]]
    if len(labels) != len(set(labels)):
        raise CostUsageError("each environment may appear in one pair only")
    return pairs


def _outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    if not args.output:
        return [("-", args.format or "json")]
    out = []
    for path in args.output:
        fmt = args.format or Path(path).suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise CostUsageError(f"{path}: cannot tell the format from the suffix; use --format")
        out.append((path, fmt))
    return out


def _actuals(args: argparse.Namespace) -> tuple[Actuals | None, str]:
    if not args.cost_explorer:
        return (
            None,
            "not requested (run with --cost-explorer --since YYYY-MM-DD and AWS credentials)",
        )
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    since = dt.date.fromisoformat(args.since)
    try:
        client = make_client(args.ce_endpoint_url)
        actuals = fetch_actuals(
            client,
            since=since,
            today=today,
            months=args.months,
            tag_key=args.tag_key,
            metric=args.cost_metric,
            include_credits=args.include_credits,
        )
    except CostExplorerError as exc:
        print(f"govern: {exc}", file=sys.stderr)
        return None, str(exc)
    for section, message in actuals.errors.items():
        print(f"govern: Cost Explorer {section} unavailable: {message}", file=sys.stderr)
    return actuals, "from Cost Explorer"


def bridge_summary(bridge: dict) -> str:
    """The bridge's three headline figures on one line, each saying what it compares."""
    pct = bridge["all_in_change_percent"]
    change = bridge["all_in_change"]
    return (
        f"bridge: today ${bridge['today']:,.2f} → optimised ${bridge['optimised']:,.2f} a month;"
        f" all-in change (today → optimised) {'+' if change >= 0 else '−'}${abs(change):,.2f}"
        f" ({'n/a' if pct is None else f'{pct:+.1f}%'});"
        f" levers' like-for-like saving (legacy → optimised, same security)"
        f" ${bridge['levers_saving']:,.2f};"
        f" security additions +${bridge['security_additions']:,.2f}"
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (CostUsageError, UsageError, CatalogueError) as exc:
        print(f"govern: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"govern: {exc.path}: {exc.problem}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    if args.cost_explorer and not args.since:
        raise CostUsageError("--cost-explorer needs --since YYYY-MM-DD (the date of the change)")
    for name in ("since", "today"):
        value = getattr(args, name)
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise CostUsageError(f"--{name} {value!r} is not a date (YYYY-MM-DD)") from None
    outputs = _outputs(args)
    pairs = _pairs(args)
    catalogue = load_catalogue(args.prices)
    profile = load_usage(args.usage or None, declared_usage())
    befores, afters = [], []
    problems: list[InputError] = []
    for label, before, after in pairs:
        after_asm = _load(after, label or "", problems)
        env = label or environment_of(after_asm.templates) or "default"
        afters.append(Assembly(env, after_asm.templates, after_asm.paths, after_asm.stack_tags))
        if before:
            before_asm = _load(before, env, problems)
            befores.append(before_asm)
    has_before = bool(befores)
    if has_before and len(befores) != len(afters):
        raise CostUsageError("give a before assembly for every environment, or for none")
    after_est = estimate(
        afters, label="after", catalogue=catalogue, profile=profile, default_region=args.region
    )
    before_est = (
        estimate(
            befores,
            label="before",
            catalogue=catalogue,
            profile=profile,
            default_region=args.region,
        )
        if has_before
        else Estimate(label="before")
    )
    actuals, status = _actuals(args)
    data = build_report(
        Comparison(before=before_est, after=after_est),
        catalogue=catalogue,
        profile=profile,
        has_before=has_before,
        actuals=actuals,
        actuals_status=status,
    )
    data["inputs"]["not_read"] = [{"path": str(e.path), "problem": e.problem} for e in problems]
    renderers = {"html": render_html, "json": render_json, "csv": render_csv}
    for path, fmt in outputs:
        text = renderers[fmt](data)
        if path == "-":
            sys.stdout.write(text)
        else:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    if any(p != "-" for p, _ in outputs):
        t = data["totals"]
        summary = f"cost: after ${t['after']:,.2f}/month"
        if has_before:
            pct = t["saving_percent"]
            summary = (
                f"cost: before ${t['before']:,.2f}, after ${t['after']:,.2f} a month;"
                f" saving ${t['saving']:,.2f} ({'n/a' if pct is None else f'{pct:.1f}%'})"
            )
        unpriced = len(data["not_priced"])
        if unpriced:
            summary += f"; {unpriced} resource(s) not priced"
        if data["depends_on_usage"]["components"]:
            summary += (
                f"; fixed costs only: {data['depends_on_usage']['components']} usage-based"
                " component(s) depend on usage (give --usage)"
            )
        print(summary + " → " + ", ".join(p for p, _ in outputs if p != "-"))
        if data.get("bridge"):
            print(bridge_summary(data["bridge"]))
    return EXIT_USAGE if problems else EXIT_OK
