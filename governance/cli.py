"""The ``govern`` command: check templates, list rules, write reports.

Exit codes: 0 clean, 1 unacknowledged findings at or above ``--fail-on`` (default: the policy's
``fail_on``, decided by :func:`governance.engine.verdict` as the plugin decides synth), 2 bad
input or usage, 3 an internal error (a bug in ``govern``: please report it). Errors are one line
on stderr, never a traceback. Bad input costs only itself: every other input is still judged and
reported, and the exit code is 2 at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from governance import __version__
from governance.model import Severity
from governance.policy import Policy, PolicyError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

#: ``govern report <kind>`` and ``govern prices`` are provided by these modules, each exposing
#: ``add_arguments(parser)`` and ``run(args) -> int``.
REPORT_COMMANDS = {
    "compliance": (
        "reports.compliance.cli",
        "compliance report for auditors (html, json, sarif, junit, csv)",
    ),
    "cost": ("reports.cost.cli", "before/after cost report for finance (html, json, csv)"),
}
PRICES_MODULE = "reports.cost.prices_cli"


class UsageError(Exception):
    """Bad arguments or configuration: printed as one line, exit code 2."""


def load_policy(args: argparse.Namespace) -> Policy:
    """The policy from ``--config`` (a cdk.json), for ``--env`` / ``--profile`` / ``--suffix``."""
    config = getattr(args, "config", None)
    governance: Any = None
    if config is None and Path("cdk.json").is_file():
        config = "cdk.json"
    if config:
        try:
            data = json.loads(Path(config).read_text())
        except OSError as exc:
            raise UsageError(f"{config}: cannot read ({exc.strerror or exc})") from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"{config}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        governance = (
            (data.get("context") or {}).get("governance") if isinstance(data, dict) else None
        )
    try:
        return Policy.from_context(
            governance,
            environment=getattr(args, "env", None),
            profile=getattr(args, "profile", None),
            suffix=getattr(args, "suffix", None),
        )
    except PolicyError as exc:
        raise UsageError(f"{config or 'policy'}: {exc}") from None


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        help="cdk.json whose context holds the governance policy (default: ./cdk.json if present)",
    )
    parser.add_argument("--env", help="environment whose policy overrides apply (e.g. production)")
    parser.add_argument("--profile", help="synthesis profile whose overrides apply (e.g. legacy)")
    parser.add_argument("--suffix", help="naming suffix (default: the environment name)")


def _severity_arg(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--max-file-size``, ``--max-depth``, ``--max-yaml-nodes`` (docs/governance.md, Limits)."""
    from governance.reading import DEFAULT_LIMITS as D

    parser.add_argument(
        "--max-file-size",
        type=_positive_int,
        default=None,
        metavar="BYTES",
        help=f"largest template file read (default {D.max_bytes:,})",
    )
    parser.add_argument(
        "--max-depth",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"deepest nesting of mappings and lists (default {D.max_depth})",
    )
    parser.add_argument(
        "--max-yaml-nodes",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"most YAML nodes once aliases are expanded (default {D.max_yaml_nodes:,})",
    )


def limits_of(args: argparse.Namespace, policy: Policy | None = None):  # noqa: ANN201 - Limits
    """The run's limits: each flag given, else the policy's ``governance.limits`` key, else the
    default."""
    from governance.reading import DEFAULT_LIMITS, Limits

    keys = policy.limits if policy is not None else {}

    def pick(flag: str, default: int) -> int:
        given = getattr(args, flag, None)
        return given if given is not None else keys.get(flag, default)

    return Limits(
        max_bytes=pick("max_file_size", DEFAULT_LIMITS.max_bytes),
        max_depth=pick("max_depth", DEFAULT_LIMITS.max_depth),
        max_yaml_nodes=pick("max_yaml_nodes", DEFAULT_LIMITS.max_yaml_nodes),
    )


def cmd_check(args: argparse.Namespace) -> int:
    from governance import formats
    from governance.engine import evaluate_isolating, verdict
    from governance.template import load_inputs, unexpected

    policy = load_policy(args)
    templates, errors = load_inputs(args.paths, limits_of(args, policy))
    result, broken = evaluate_isolating(templates, policy)
    if broken:
        result.templates = [t for t in result.templates if all(t is not b for b, _ in broken)]
        errors.extend(unexpected(t.path, exc) for t, exc in broken)
    for err in errors:
        print(f"govern: {err.path}: {err.problem}", file=sys.stderr)
    errors.extend(_check_baseline(args, policy, result))
    try:
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"{args.output}: cannot write ({exc.strerror or exc})") from None
    try:
        if args.format == "json":
            formats.write_json(result, errors, out)
        else:
            formats.write_text(result, errors, out)
    finally:
        if args.output:
            out.close()
    if errors:
        return EXIT_USAGE
    threshold = policy.fail_on if args.fail_on is None else args.fail_on
    return EXIT_OK if verdict(result.findings, threshold).passed else EXIT_FINDINGS


def _baseline_path(args: argparse.Namespace, policy: Policy) -> Path | None:
    """``--baseline FILE``, else the policy's ``baseline`` relative to the config's directory."""
    if getattr(args, "baseline", None):
        return Path(args.baseline)
    if not policy.baseline:
        return None
    from governance.baseline import resolve  # imported only when a baseline is in use

    config = getattr(args, "config", None) or "cdk.json"
    return resolve(policy.baseline, Path(config).resolve().parent)


def _check_baseline(args: argparse.Namespace, policy: Policy, result: Any) -> list:
    """Apply the baseline to ``result`` in place; its stale and expired entries go to stderr.

    Returns the input errors (an unreadable baseline), which make the run exit 2."""
    path = _baseline_path(args, policy)
    if path is None:
        return []
    from governance import baseline
    from governance.template import InputError

    try:
        loaded = baseline.load(path)
    except InputError as exc:
        print(f"govern: {exc.path}: {exc.problem}", file=sys.stderr)
        return [exc]
    outcome = baseline.apply(result.findings, result.templates, loaded)
    for line in outcome.messages():
        print(f"govern: {path}: {line}", file=sys.stderr)
    return []


def cmd_baseline(args: argparse.Namespace) -> int:
    """``govern baseline create``: record today's findings as the adoption baseline."""
    from governance import baseline
    from governance.engine import evaluate
    from governance.exceptions import parse_expires
    from governance.template import load_inputs

    try:
        expires = parse_expires(args.expires)
    except ValueError as exc:
        raise UsageError(f"--expires: {exc}") from None
    policy = load_policy(args)
    templates, errors = load_inputs(args.paths)
    for err in errors:
        print(f"govern: {err.path}: {err.problem}", file=sys.stderr)
    if errors:
        return EXIT_USAGE
    result = evaluate(templates, policy)
    created = baseline.create(result.findings, result.templates, expires=expires)
    baseline.write(created, args.output)
    print(f"govern: {len(created.entries)} findings recorded in {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from governance.registry import all_rules

    if args.format == "markdown":
        from governance.docs import render_markdown

        sys.stdout.write(render_markdown())
        return EXIT_OK
    rules = all_rules()
    if args.format == "json":
        json.dump(
            [
                {
                    "id": r.id,
                    "slug": r.slug,
                    "title": r.title,
                    "severity": str(r.severity),
                    "category": str(r.category),
                    "pci_dss": list(r.pci),
                    "resource_types": list(r.resource_types),
                    "status": r.status.value,
                    "checkov": list(r.checkov),
                    "cdk_nag": list(r.cdk_nag),
                    "fix": r.fix,
                }
                for r in rules
            ],
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return EXIT_OK
    width = max(len(r.id) for r in rules)
    for r in rules:
        pci = f"  [PCI DSS {', '.join(r.pci)}]" if r.pci else ""
        print(f"{r.id:<{width}}  {str(r.severity):<7}  {r.category:<10}  {r.title}{pci}")
    print(f"\n{len(rules)} rules")
    return EXIT_OK


def build_parser(*, extensions: bool = True) -> argparse.ArgumentParser:
    """The argument parser; ``extensions=False`` leaves out the report and price commands, whose
    modules import jinja2 and botocore (``govern check`` starts faster without them)."""
    parser = argparse.ArgumentParser(
        prog="govern", description="Compliance and cost governance for AWS CDK and CloudFormation."
    )
    parser.add_argument("--version", action="version", version=f"govern {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser(
        "check", help="judge cloud assemblies, templates or folders of templates"
    )
    check.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="cdk.out directory, template file (JSON/YAML) or folder",
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument(
        "--fail-on",
        type=_severity_arg,
        default=None,
        metavar="SEVERITY",
        help="exit 1 on findings at or above this (info, warning, error; default: the policy's"
        " fail_on, error without a policy)",
    )
    check.add_argument("-o", "--output", help="write to this file instead of standard output")
    add_limit_arguments(check)
    check.add_argument(
        "--baseline",
        metavar="FILE",
        help="fail only on findings not in this adoption baseline (default: the policy's baseline)",
    )
    add_policy_arguments(check)
    check.set_defaults(func=cmd_check)

    base = sub.add_parser("baseline", help="the adoption baseline of today's findings")
    base_sub = base.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    create = base_sub.add_parser("create", help="record today's findings in a baseline file")
    create.add_argument("paths", nargs="+", metavar="PATH", help="cdk.out, template or folder")
    create.add_argument("-o", "--output", required=True, help="baseline file to write")
    create.add_argument("--expires", metavar="YYYY-MM-DD", help="date the entries stop covering")
    add_policy_arguments(create)
    create.set_defaults(func=cmd_baseline)

    rules = sub.add_parser("rules", help="print the rule catalogue")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.set_defaults(func=cmd_rules)

    if not extensions:
        return parser
    report = sub.add_parser("report", help="write a report")
    report_sub = report.add_subparsers(dest="report_kind", required=True, metavar="KIND")
    for kind, (module_name, help_text) in REPORT_COMMANDS.items():
        module = _optional_module(module_name)
        if module is None:
            continue
        p = report_sub.add_parser(kind, help=help_text)
        module.add_arguments(p)
        p.set_defaults(func=module.run)

    prices_module = _optional_module(PRICES_MODULE)
    if prices_module is not None:
        prices = sub.add_parser("prices", help="the embedded price catalogue")
        prices_module.add_arguments(prices)
        prices.set_defaults(func=prices_module.run)
    return parser


def _optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


def run() -> None:
    """The ``govern`` program: :func:`main`, then exit without tearing the heap down.

    A large check ends holding every template and finding; freeing them one by one at
    interpreter exit cost about 30 ms of a 0.57 s run on 10,000 resources (docs/benchmarks.md),
    and nothing is left to do by then: every report file is closed by its command, standard
    output and error are flushed here, and the project registers no exit handlers.
    """
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors and --help
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 2
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing can reach it
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # A check is short and keeps what it builds until the end: the cyclic garbage collector would
    # only walk the growing heap again and again (about a fifth of a large run's CPU time).
    gc_was_enabled = gc.isenabled()
    if argv[:1] == ["check"]:
        gc.disable()
    try:
        return _main(argv)
    finally:
        if gc_was_enabled:
            gc.enable()


def _main(argv: list[str]) -> int:
    parser = build_parser(extensions=not argv or argv[0] not in ("check", "rules", "baseline"))
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:  # a name no encoding can carry is escaped, not a crash
            reconfigure(errors="backslashreplace")
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"govern: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PolicyError as exc:
        print(f"govern: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("govern: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in govern, not in the input: its own exit code
        text = " ".join(str(exc).split())[:300]
        print(
            f"govern: internal error ({type(exc).__name__}: {text}); please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    run()
