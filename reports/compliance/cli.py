"""``govern report compliance``: the auditor's report from cloud assemblies or templates.

    govern report compliance cdk.out [more ...] -o build/reports/compliance.html
    govern report compliance cdk.out -o report.html -o report.json -o report.sarif

Each ``-o`` file gets the format of its suffix (``--format`` overrides it for a single output;
HTML when neither says), so one run - and one checkov run - writes several formats. Exit code 0 once the
report is written, 2 on bad input (the report still lists what could be judged).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from governance.cli import EXIT_OK, EXIT_USAGE, UsageError, add_policy_arguments, load_policy

FORMATS = ("html", "json", "sarif", "junit", "csv")
_SUFFIX = {".html": "html", ".htm": "html", ".json": "json", ".sarif": "sarif", ".xml": "junit"}
_SUFFIX[".csv"] = "csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="cdk.out directory, template file or folder"
    )
    parser.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        help="write here (repeatable; default: standard output)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, help="html, json, sarif, junit or csv (default: from -o)"
    )
    parser.add_argument("--title", help="title of the report")
    parser.add_argument(
        "--classification-tag",
        default="DataClassification",
        help="tag whose value the inventory shows (default DataClassification)",
    )
    checkov = parser.add_mutually_exclusive_group()
    checkov.add_argument("--no-checkov", action="store_true", help="do not run checkov")
    checkov.add_argument("--checkov", metavar="PATH", help="checkov executable to run")
    parser.add_argument(
        "--base",
        default=".",
        help="directory SARIF paths are relative to (default: the current directory)",
    )
    add_policy_arguments(parser)


def _format(args: argparse.Namespace, output: str | None) -> str:
    if args.format:
        return args.format
    if output:
        return _SUFFIX.get(Path(output).suffix.lower(), "html")
    return "html"


def run(args: argparse.Namespace) -> int:
    from reports.compliance import csvout, junit, render, sarif
    from reports.compliance.model import build_report

    if args.format and len(args.output) > 1:
        raise UsageError("--format applies to one output; with several -o the suffixes decide")
    policy = load_policy(args)
    report = build_report(
        args.paths,
        policy,
        checkov=False if args.no_checkov else (args.checkov or True),
        classification_tag=args.classification_tag,
        title=args.title,
    )
    if not report.scope and report.input_errors:
        raise UsageError(report.input_errors[0])
    for output in args.output or [None]:
        fmt = _format(args, output)
        if fmt == "html":
            text = render.render_html(report, args.classification_tag)
        elif fmt == "json":
            text = render.render_json(report)
        elif fmt == "sarif":
            text = sarif.render_sarif(report, Path(args.base))
        elif fmt == "junit":
            text = junit.to_junit(report)
        else:
            text = csvout.to_csv(report)
        if output is None:
            sys.stdout.write(text)
            continue
        out = Path(output)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{out}: cannot write ({exc.strerror or exc})") from None
    for note in report.notes:
        print(f"govern: {note}", file=sys.stderr)
    for err in report.input_errors:
        print(f"govern: {err}", file=sys.stderr)
    return EXIT_USAGE if report.input_errors else EXIT_OK
