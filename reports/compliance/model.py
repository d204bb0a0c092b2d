"""The compliance report's data model, built and tested in Python; the formats only render it.

One report covers one or more cloud assemblies (or template folders) judged under one policy:

* scope - stacks with their environment (``aws://account/region`` from the assembly manifest);
* requirements - every PCI DSS v4.0.1 requirement with its status from the rules that cover it;
* findings - ours, cdk-nag's (from ``validation-report.json``) and checkov's, merged;
* exceptions - every acknowledgement with its reason, ticket, approver and expiry;
* inventory - every in-scope resource with its data-classification tag (PCI DSS 12.5.1);
* evidence - tool and rule-set version, git commit, time of the run, SHA-256 of each template.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from governance import __version__
from governance.cdknag import plugin_findings
from governance.checkov import CheckovRun, checkov_equivalents, merge, run_checkov
from governance.engine import Result, evaluate
from governance.exceptions import UNWAIVABLE_RULES, resource_exceptions
from governance.intrinsics import Unresolved
from governance.model import Finding, Rule
from governance.policy import Policy
from governance.tags import resource_tags
from governance.template import InputError, Template, load_inputs

ROOT = Path(__file__).resolve().parents[2]

#: Requirement statuses, in the order the summary shows them.
PASS, FAIL, ACKNOWLEDGED, REVIEW = "pass", "fail", "acknowledged", "review"
NOT_EVALUATED, NOT_COVERED, NOT_DECIDABLE = "not evaluated", "not covered", "not decidable"
STATUSES = (FAIL, REVIEW, ACKNOWLEDGED, PASS, NOT_EVALUATED, NOT_COVERED, NOT_DECIDABLE)
STATUS_MEANING = {
    PASS: "rules covering it judged resources and found nothing",
    FAIL: "at least one violation is not acknowledged",
    ACKNOWLEDGED: "violations exist, every one under a governed exception",
    REVIEW: "no violation, but values the rules could not decide (intrinsics) need a person",
    NOT_EVALUATED: "decidable, but no resource of the types its rules judge is in scope",
    NOT_COVERED: "decidable from templates, but no rule covers it yet",
    NOT_DECIDABLE: "not decidable from infrastructure code (process, people, scanning)",
}
NOT_IN_INVENTORY = ("AWS::CDK::Metadata",)


@dataclass
class StackScope:
    name: str
    template_path: str
    environment: str | None
    account: str | None
    region: str | None
    resources: int
    sha256: str
    #: The stack that deploys this one as a nested stack (``None`` for a top-level stack).
    nested_in: str | None = None


@dataclass
class Requirement:
    id: str
    title: str
    decidable: bool
    rules: list[str]
    status: str
    evaluated: int = 0
    violations: int = 0
    acknowledged: int = 0
    undecidable: int = 0
    note: str = ""


@dataclass
class ExceptionRow:
    rule: str
    source: str
    stack: str
    logical_id: str
    construct_path: str | None
    reason: str
    ticket: str | None
    approver: str | None
    expires: str | None
    scope: str | None
    #: "active" | "expired" | "non-waivable" | "unused" | "not applied" | "baselined" |
    #: "cdk-internal" (a resource CDK creates after Aspects run; the reason says why)
    state: str
    #: For a baselined finding: the date its baseline entry was accepted.
    accepted: str | None = None


@dataclass
class InventoryRow:
    stack: str
    logical_id: str
    resource_type: str
    construct_path: str | None
    classification: str | None  # None: tag missing; "(unresolved)": an intrinsic
    taggable: bool


@dataclass
class Evidence:
    tool: str
    tool_version: str
    ruleset_version: str
    rules: int
    git_commit: str
    git_dirty: bool | None
    generated_at: str
    policy_environment: str | None
    policy_profile: str | None
    templates: list[dict[str, str]]
    sources: dict[str, str]


@dataclass
class ComplianceReport:
    title: str
    scope: list[StackScope]
    requirements: list[Requirement]
    findings: list[Finding]
    exceptions: list[ExceptionRow]
    inventory: list[InventoryRow]
    evidence: Evidence
    notes: list[str] = field(default_factory=list)
    input_errors: list[str] = field(default_factory=list)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: What was judged, for formats that list every (rule, resource) pair (JUnit).
    templates: list[Template] = field(default_factory=list, repr=False)
    rule_objects: list[Rule] = field(default_factory=list, repr=False)

    # --- summaries the formats show --------------------------------------------------------

    @property
    def environments(self) -> list[str]:
        """The policy's environment name (``production``), when the report was run for one."""
        env = self.evidence.policy_environment
        return [env] if env else []

    @property
    def targets(self) -> list[str]:
        """Deployment targets (``aws://account/region``) of the stacks."""
        return sorted({s.environment for s in self.scope if s.environment})

    @property
    def accounts(self) -> list[str]:
        return sorted({s.account for s in self.scope if s.account})

    @property
    def regions(self) -> list[str]:
        return sorted({s.region for s in self.scope if s.region})

    def requirement_counts(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.requirements)
        return {s: counts.get(s, 0) for s in STATUSES}

    def finding_counts(self) -> dict[str, int]:
        active = [f for f in self.findings if not f.acknowledged]
        by_severity = Counter(str(f.severity) for f in active)
        return {
            "total": len(self.findings),
            "error": by_severity.get("error", 0),
            "warning": by_severity.get("warning", 0),
            "info": by_severity.get("info", 0),
            "acknowledged": sum(1 for f in self.findings if f.acknowledged),
            "violation": len(active),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": "1",
            "title": self.title,
            "scope": {
                "environments": self.environments,
                "targets": self.targets,
                "accounts": self.accounts,
                "regions": self.regions,
                "stacks": [asdict(s) for s in self.scope],
            },
            "summary": {
                "requirements": self.requirement_counts(),
                "findings": self.finding_counts(),
                "resources": len(self.inventory),
            },
            "requirements": [asdict(r) for r in self.requirements],
            "findings": [finding_dict(f) for f in self.findings],
            "exceptions": [asdict(e) for e in self.exceptions],
            "inventory": [asdict(i) for i in self.inventory],
            "evidence": asdict(self.evidence),
            "notes": list(self.notes),
            "input_errors": list(self.input_errors),
        }


def finding_dict(f: Finding) -> dict[str, Any]:
    data = f.to_dict()
    data["id"] = finding_id(f)
    return data


def finding_id(f: Finding) -> str:
    """A stable id for a finding (rule, template file, resource, property path, source)."""
    key = "|".join((f.source, f.rule_id, Path(f.template_path).name, f.logical_id, f.property_path))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# --- requirements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementSpec:
    id: str
    title: str
    decidable: bool
    rules: tuple[str, ...]
    note: str = ""


def requirement_specs(rules: Iterable[Rule]) -> list[RequirementSpec]:
    """Every requirement of the standard from ``governance.pci``, with the rules covering it.

    Rules that cite a requirement the catalogue does not list are added to it, so no finding is
    lost; without ``governance.pci`` the list is built from the rules' references alone.
    """
    rules = list(rules)
    specs: dict[str, RequirementSpec] = {}
    try:
        from governance import pci
    except ImportError:
        pci = None
    if pci is not None:
        for item in pci.requirements():
            spec = _spec(item)
            specs[spec.id] = spec
    cited: dict[str, list[str]] = {}
    for r in rules:
        for req in r.pci:
            cited.setdefault(req, []).append(r.id)
    for req, ids in cited.items():
        spec = specs.get(req)
        if spec is None:
            specs[req] = RequirementSpec(req, "", True, tuple(sorted(ids)))
        else:
            merged = tuple(sorted(set(spec.rules) | set(ids)))
            specs[req] = RequirementSpec(spec.id, spec.title, spec.decidable, merged, spec.note)
    return sorted(specs.values(), key=lambda s: _req_key(s.id))


def _spec(item: Any) -> RequirementSpec:
    def get(name: str, default: Any = None) -> Any:
        if isinstance(item, dict):
            return item.get(name, default)
        return getattr(item, name, default)

    rid = str(get("number") or get("id"))
    rules = get("rules") or ()
    return RequirementSpec(
        id=rid,
        title=str(get("summary") or get("title") or ""),
        decidable=bool(get("decidable", True)),
        rules=tuple(sorted(str(r) for r in rules)),
        note=str(get("reason") or get("gap") or ""),
    )


def _req_key(rid: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in rid.split("."))


def requirement_rows(
    specs: list[RequirementSpec], findings: list[Finding], evaluated: Counter
) -> list[Requirement]:
    """Status per requirement from the findings of the rules covering it."""
    rows = []
    for spec in specs:
        mine = [
            f
            for f in findings
            if f.source == "governance"
            and f.rule_id not in UNWAIVABLE_RULES
            and (f.rule_id in spec.rules or spec.id in f.pci)
        ]
        judged = sum(evaluated.get(r, 0) for r in spec.rules)
        violations = sum(1 for f in mine if not f.acknowledged and not f.undecidable)
        undecided = sum(1 for f in mine if not f.acknowledged and f.undecidable)
        acknowledged = sum(1 for f in mine if f.acknowledged)
        if violations:
            status = FAIL
        elif undecided:
            status = REVIEW
        elif not spec.decidable:
            status = NOT_DECIDABLE  # rules may bring evidence, but no template shows it is met
        elif acknowledged:
            status = ACKNOWLEDGED
        elif judged:
            status = PASS
        else:
            status = NOT_EVALUATED if spec.rules else NOT_COVERED
        rows.append(
            Requirement(
                id=spec.id,
                title=spec.title,
                decidable=spec.decidable,
                rules=list(spec.rules),
                status=status,
                evaluated=judged,
                violations=violations,
                acknowledged=acknowledged,
                undecidable=undecided,
                note=spec.note,
            )
        )
    return rows


# --- exceptions and inventory ------------------------------------------------------------------


def exception_rows(templates: list[Template], findings: list[Finding]) -> list[ExceptionRow]:
    """Every acknowledged finding or exception record, and records no finding used."""
    rows: list[ExceptionRow] = []
    used: set[tuple[str, str, str]] = set()
    for f in findings:
        if f.rule_id in UNWAIVABLE_RULES or not (f.acknowledged or f.exception):
            continue
        exc = f.exception or {}
        if exc.get("kind") == "baseline":
            state = "baselined"
        elif exc.get("kind") == "cdk-internal":
            state = "cdk-internal"
        elif exc.get("expired"):
            state = "expired"
        elif exc and exc.get("waivable") is False:
            state = "non-waivable"
        else:
            state = "active" if f.acknowledged else "not applied"
        rows.append(
            ExceptionRow(
                rule=f.rule_id,
                source=f.source,
                stack=f.stack,
                logical_id=f.logical_id,
                construct_path=f.construct_path,
                reason=exc.get("reason") or f.reason or "",
                ticket=exc.get("ticket"),
                approver=exc.get("approver"),
                expires=exc.get("expires"),
                scope=exc.get("scope"),
                state=state,
                accepted=exc.get("accepted"),
            )
        )
        used.add((f.template_path, f.logical_id, f.rule_id))
    today = dt.date.today()
    unused: dict[tuple[str, str, str | None], list[tuple[Template, Any, Any]]] = {}
    for t in templates:
        for res in t.resources.values():
            for rec in resource_exceptions(res):
                if (t.path, res.logical_id, rec.rule) not in used:
                    unused.setdefault((t.path, rec.ack_id, rec.scope), []).append((t, res, rec))
    for group in unused.values():
        t, res, rec = group[0]
        rows.append(
            ExceptionRow(
                rule=rec.rule,
                source="governance" if rec.plugin == "govern" else "cdk-nag",
                stack=t.name,
                logical_id=res.logical_id if len(group) == 1 else f"{len(group)} resources",
                construct_path=res.construct_path if len(group) == 1 else None,
                reason=rec.reason,
                ticket=rec.ticket,
                approver=rec.approver,
                expires=rec.expires.isoformat() if rec.expires else None,
                scope=rec.scope,
                state="expired" if rec.expired(today) else "unused",
            )
        )
    return sorted(rows, key=lambda r: (r.stack, r.rule, r.logical_id))


def inventory_rows(templates: list[Template], classification_tag: str) -> list[InventoryRow]:
    rows = []
    for t in templates:
        for res in t.resources.values():
            if res.type in NOT_IN_INVENTORY:
                continue
            tags = resource_tags(res)
            if tags is None:
                value, taggable = None, False
            elif isinstance(tags, Unresolved):
                value, taggable = "(unresolved)", True
            else:
                raw = tags.get(classification_tag)
                taggable = True
                if raw is None:
                    value = None
                elif isinstance(raw, Unresolved) or not isinstance(raw, (str, int, float)):
                    value = "(unresolved)"
                else:
                    value = str(raw)
            rows.append(
                InventoryRow(t.name, res.logical_id, res.type, res.construct_path, value, taggable)
            )
    return rows


# --- evidence ----------------------------------------------------------------------------------


def ruleset_version(rules: Iterable[Rule]) -> str:
    """A fingerprint of the rule set: ids, severities, references and each rule's source code."""
    digest = hashlib.sha256()
    for r in sorted(rules, key=lambda r: r.id):
        try:
            source = inspect.getsource(r.func)
        except (OSError, TypeError):
            source = ""
        digest.update(f"{r.id}|{r.severity}|{','.join(r.pci)}|{r.status}\n".encode())
        digest.update(source.encode())
    return digest.hexdigest()[:16]


NOT_A_CHECKOUT = "not a git checkout"


def git_commit(cwd: Path = ROOT) -> tuple[str, bool | None]:
    """``(commit, dirty)`` of the git checkout holding ``cwd``; ``("not a git checkout", None)``
    when there is none, ``("unknown", None)`` when git cannot be run."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return NOT_A_CHECKOUT, None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return head.stdout.strip(), dirty
    except (OSError, subprocess.TimeoutExpired):
        return "unknown", None


def judged_commit(templates: Iterable[Template]) -> tuple[str, bool | None]:
    """The commit of the app that was judged: of the checkout holding its templates.

    Taken from the judged templates' own directory (a ``cdk.out`` inside the app's repository
    gives the app's commit), never from this tool's checkout; ``"not a git checkout"`` when the
    templates lie outside any repository. Inputs from several checkouts list each commit.
    """
    directories = sorted({str(Path(t.path).resolve().parent) for t in templates})
    if not directories:
        return NOT_A_CHECKOUT, None
    seen: dict[str, bool | None] = {}
    for directory in directories:
        head, dirty = git_commit(Path(directory))
        seen[head] = bool(seen.get(head)) or dirty if head in seen else dirty
    if len(seen) == 1:
        return next(iter(seen.items()))
    dirty_any = any(seen.values())
    return ", ".join(sorted(seen)), dirty_any


# --- building ----------------------------------------------------------------------------------


def split_environment(env: str | None) -> tuple[str | None, str | None]:
    """``aws://123456789012/eu-west-1`` -> ``("123456789012", "eu-west-1")``; unknowns -> None."""
    if not env or not env.startswith("aws://"):
        return None, None
    account, _, region = env[len("aws://") :].partition("/")
    unknown = ("unknown-account", "unknown-region", "")
    return (None if account in unknown else account), (None if region in unknown else region)


def build_report(
    paths: list[str | Path],
    policy: Policy,
    *,
    checkov: bool | str | Path = True,
    classification_tag: str = "DataClassification",
    title: str | None = None,
    now: dt.datetime | None = None,
    commit: tuple[str, bool | None] | None = None,
    baseline: str | Path | None = None,
) -> ComplianceReport:
    """Judge the inputs and assemble everything the auditor reads.

    ``baseline`` (else the policy's ``baseline``, relative to the working directory) marks the
    findings of the adoption baseline as baselined, with the date each was accepted.
    """
    from governance import baseline as adoption

    templates, errors = load_inputs(list(paths))
    result = evaluate(templates, policy)
    chosen = baseline or (
        adoption.resolve(policy.baseline, Path.cwd()) if policy.baseline else None
    )
    if chosen is not None:
        try:
            adoption.apply(result.findings, result.templates, adoption.load(chosen))
        except InputError as exc:
            errors.append(exc)
    return report_from_result(
        result,
        policy,
        errors=errors,
        checkov=checkov,
        classification_tag=classification_tag,
        title=title,
        now=now,
        commit=commit,
    )


def report_from_result(
    result: Result,
    policy: Policy,
    *,
    errors: list[InputError] | None = None,
    checkov: bool | str | Path = True,
    classification_tag: str = "DataClassification",
    title: str | None = None,
    now: dt.datetime | None = None,
    commit: tuple[str, bool | None] | None = None,
) -> ComplianceReport:
    templates = result.templates
    notes: list[str] = []
    ours = list(result.findings)
    nag = plugin_findings(templates, policy)
    sources = {"govern": __version__}
    if nag:
        sources["cdk-nag"] = "from validation-report.json"
    run: CheckovRun | None = None
    if checkov:
        run = run_checkov(templates, None if checkov is True else checkov)
        if run.error:
            notes.append(run.error)
        else:
            sources["checkov"] = run.version or "unknown"
    else:
        notes.append("checkov was not run (--no-checkov)")
    findings = merge(ours, nag, {})  # cdk-nag's findings carry their own acknowledgements
    if run is not None and not run.error:
        # a checkov finding that a judged rule declares as its equivalent is listed once, as ours
        findings = merge(findings, run.findings, checkov_equivalents(result.rules))
    findings.sort(
        key=lambda f: (-int(f.severity), f.acknowledged, f.stack, f.rule_id, f.logical_id)
    )

    scope = []
    for t in templates:
        account, region = split_environment(t.environment)
        scope.append(
            StackScope(
                t.name,
                t.path,
                t.environment,
                account,
                region,
                len(t.resources),
                t.sha256,
                nested_in=t.parent,
            )
        )
    specs = requirement_specs(result.rules)
    head, dirty = commit or judged_commit(templates)
    generated = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    evidence = Evidence(
        tool="govern",
        tool_version=__version__,
        ruleset_version=ruleset_version(result.rules),
        rules=len(result.rules),
        git_commit=head,
        git_dirty=dirty,
        generated_at=generated,
        policy_environment=policy.environment,
        policy_profile=policy.profile,
        templates=[
            {"name": t.name, "path": t.path, "sha256": t.sha256, "nested_in": t.parent}
            for t in templates
        ],
        sources=sources,
    )
    default_title = "PCI DSS v4.0.1 compliance evidence"
    if policy.environment:
        default_title += f": {policy.environment}"
    return ComplianceReport(
        title=title or default_title,
        scope=scope,
        requirements=requirement_rows(specs, findings, result.evaluated),
        findings=findings,
        exceptions=exception_rows(templates, findings),
        inventory=inventory_rows(templates, classification_tag),
        evidence=evidence,
        notes=notes,
        input_errors=[f"{e.path}: {e.problem}" for e in errors or []],
        rules={
            r.id: {
                "title": r.title,
                "severity": str(r.severity),
                "pci": list(r.pci),
                "slug": r.slug,
                "fix": r.fix,
                "category": r.category,
            }
            for r in result.rules
        },
        templates=list(templates),
        rule_objects=list(result.rules),
    )
