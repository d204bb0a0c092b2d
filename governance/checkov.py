"""checkov beside our rules: run it on the synthesized templates and merge its findings into ours.

checkov pins old versions of boto3 and packaging, so it lives in its own virtual environment
(``make .checkov-venv/.installed``) and is called as a program: ``checkov -f <templates>
--framework cloudformation -o json``. Its failed checks become :class:`Finding` records with
``source="checkov"``. A checkov finding that says what one of our rules says about the same
resource - as the rule declares in ``@rule(..., checkov=(...))`` - is not listed twice: our finding
names checkov in ``also_reported_by``.

checkov is never asked to reach the network: ``--skip-download`` and ``BC_SKIP_MAPPING`` keep it
from fetching guidelines and severities from Prisma Cloud, so its findings carry no severity of
their own and are reported as warnings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.model import Finding, Rule, Severity
from governance.registry import all_rules
from governance.template import Template

ROOT = Path(__file__).resolve().parent.parent
#: Where ``make`` installs checkov (its own virtual environment).
DEFAULT_CHECKOV = ROOT / ".checkov-venv" / "bin" / "checkov"
CHECKOV_SEVERITY = Severity.WARNING


def checkov_equivalents(rules: Iterable[Rule] | None = None) -> dict[str, tuple[str, ...]]:
    """checkov check -> our rules that judge the same control on the same resource.

    Read from the rules' own declarations (``@rule(..., checkov=("CKV_AWS_19",))``), over every
    registered rule or over ``rules``.
    """
    mapping: dict[str, list[str]] = {}
    for r in all_rules() if rules is None else rules:
        for check in r.checkov:
            mapping.setdefault(check, []).append(r.id)
    return {check: tuple(ids) for check, ids in mapping.items()}


@dataclass
class CheckovRun:
    """What one checkov run produced; ``error`` says in one line why there are no findings."""

    findings: list[Finding] = field(default_factory=list)
    version: str | None = None
    error: str | None = None
    seconds: float = 0.0
    passed: int = 0
    failed: int = 0


def find_checkov(explicit: str | Path | None = None) -> Path | None:
    """``explicit`` if given, else ``$GOVERN_CHECKOV``, the project's ``.checkov-venv``, or
    ``checkov`` on PATH; ``None`` when there is none."""
    candidates = [explicit] if explicit else [os.environ.get("GOVERN_CHECKOV"), DEFAULT_CHECKOV]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    if explicit:
        return None
    found = shutil.which("checkov")
    return Path(found) if found else None


def checkov_command(checkov: Path, template_paths: Iterable[str]) -> list[str]:
    cmd = [str(checkov), "--framework", "cloudformation", "-o", "json", "--quiet"]
    cmd += ["--skip-download", "--compact"]
    for path in template_paths:
        cmd += ["-f", str(path)]
    return cmd


def checkov_env() -> dict[str, str]:
    """checkov's environment: offline, no telemetry, no guideline download."""
    env = dict(os.environ)
    env.update({"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"})
    env.pop("BC_API_KEY", None)
    return env


def run_checkov(
    templates: list[Template], checkov: str | Path | None = None, timeout: float = 600
) -> CheckovRun:
    """Run checkov on the templates' files; a missing or failing checkov is an ``error``."""
    exe = find_checkov(checkov)
    if exe is None:
        where = f" at {checkov}" if checkov else " (make .checkov-venv/.installed)"
        return CheckovRun(error=f"checkov is not installed{where}; its checks were skipped")
    paths = [t.path for t in templates]
    if not paths:
        return CheckovRun()
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            checkov_command(exe, paths),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=checkov_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return CheckovRun(error=f"checkov could not run: {exc}")
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return CheckovRun(error=f"checkov failed (exit {proc.returncode}): {last}", seconds=seconds)
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else []
    except json.JSONDecodeError:
        return CheckovRun(error="checkov printed something that is not JSON", seconds=seconds)
    run = parse_checkov_output(data, templates)
    run.seconds = seconds
    return run


def parse_checkov_output(data: Any, templates: list[Template]) -> CheckovRun:
    """Turn checkov's JSON (one report, or a list of reports) into findings."""
    reports = data if isinstance(data, list) else [data]
    by_file = {}
    for t in templates:
        by_file[str(Path(t.path).resolve())] = t
        by_file.setdefault(Path(t.path).name, t)
    run = CheckovRun()
    for report in reports:
        if not isinstance(report, dict) or report.get("check_type") not in (None, "cloudformation"):
            continue
        summary = report.get("summary") or {}
        run.version = summary.get("checkov_version") or run.version
        run.passed += int(summary.get("passed") or 0)
        run.failed += int(summary.get("failed") or 0)
        for check in (report.get("results") or {}).get("failed_checks", []) or []:
            finding = _finding(check, by_file)
            if finding is not None:
                run.findings.append(finding)
    return run


def _finding(check: dict[str, Any], by_file: dict[str, Template]) -> Finding | None:
    resource_ref = str(check.get("resource") or "")
    resource_type, _, logical_id = resource_ref.rpartition(".")
    file_path = str(check.get("file_abs_path") or check.get("file_path") or "")
    template = by_file.get(str(Path(file_path).resolve())) or by_file.get(Path(file_path).name)
    if template is None or not logical_id:
        return None
    resource = template.resources.get(logical_id)
    keys = (check.get("check_result") or {}).get("evaluated_keys") or []
    prop = str(keys[0]) if keys else "Properties"
    if not prop.startswith(("Properties", "Metadata", "DeletionPolicy", "UpdateReplacePolicy")):
        prop = f"Properties/{prop}"
    title = str(check.get("check_name") or check.get("check_id"))
    return Finding(
        rule_id=str(check.get("check_id")),
        severity=CHECKOV_SEVERITY,
        title=title,
        message=title,
        stack=template.name,
        logical_id=logical_id,
        resource_type=resource.type if resource else resource_type,
        template_path=template.path,
        construct_path=resource.construct_path if resource else None,
        property_path=prop.replace("/[", "/").replace("]", ""),
        source="checkov",
        fix=str(check.get("guideline") or ""),
        category="checkov",
    )


def merge(
    ours: list[Finding],
    others: Iterable[Finding],
    mapping: dict[str, tuple[str, ...]] | None = None,
) -> list[Finding]:
    """``ours`` plus the ``others`` that do not duplicate one of ours.

    A finding of another tool duplicates ours when ``mapping`` ties its rule to ours and both are
    about the same resource in the same template; ours then lists ``<source>:<rule>`` in
    ``also_reported_by`` and the other is dropped. Ours are changed in place. ``mapping`` defaults
    to the checkov equivalents the registered rules declare (:func:`checkov_equivalents`).
    """
    mapping = checkov_equivalents() if mapping is None else mapping
    index: dict[tuple[str, str, str], Finding] = {}
    for f in ours:
        index.setdefault((f.template_path, f.logical_id, f.rule_id), f)
    merged = list(ours)
    for other in others:
        twin = next(
            (
                index[key]
                for rule_id in mapping.get(other.rule_id, ())
                if (key := (other.template_path, other.logical_id, rule_id)) in index
            ),
            None,
        )
        if twin is None:
            merged.append(other)
            continue
        tag = f"{other.source}:{other.rule_id}"
        if tag not in twin.also_reported_by:
            twin.also_reported_by.append(tag)
    return merged
