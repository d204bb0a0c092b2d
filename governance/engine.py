"""The engine: runs every enabled rule over every resource of the templates it is given.

The same function serves the validation plugin during ``cdk synth``, the ``govern`` command and
the compliance report, so all three judge alike; and :func:`verdict` is the one pass/fail decision
the plugin and ``govern check`` both take over its findings. Rules are called guarded: one that
raises yields an undecidable finding instead of ending the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from governance.exceptions import govern_exceptions
from governance.model import PLUGIN_NAME as PLUGIN_NAME  # re-exported: the plugin's name
from governance.model import Finding, Issue, Rule, Severity, undecidable
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import Resource, Template


@dataclass
class Result:
    """Findings of one run, and how many resources each rule looked at."""

    templates: list[Template]
    findings: list[Finding]
    evaluated: Counter = field(default_factory=Counter)
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    """Whether a run passes under a threshold, and the findings that make it fail."""

    threshold: Severity
    blocking: tuple[Finding, ...]

    @property
    def passed(self) -> bool:
        return not self.blocking


def blocks(finding: Finding, threshold: Severity) -> bool:
    """A finding fails the run when it is not acknowledged and at or above ``threshold``."""
    return not finding.acknowledged and finding.severity >= threshold


def verdict(findings: Iterable[Finding], threshold: Severity) -> Verdict:
    """The one pass/fail decision over ``findings`` (the plugin's and ``govern check``'s).

    ``threshold`` is the policy's ``fail_on`` unless the caller overrides it (``--fail-on``).
    """
    return Verdict(threshold, tuple(f for f in findings if blocks(f, threshold)))


def _index(rules: Iterable[Rule]) -> tuple[dict[str, list[Rule]], list[Rule]]:
    by_type: dict[str, list[Rule]] = {}
    wildcard: list[Rule] = []
    for r in rules:
        if "*" in r.resource_types:
            wildcard.append(r)
        for t in r.resource_types:
            if t != "*":
                by_type.setdefault(t, []).append(r)
    return by_type, wildcard


#: How much of a rule's error message a finding quotes.
ERROR_MESSAGE_LIMIT = 200


def _failure(rule: Rule, resource: Resource, exc: Exception) -> Issue:
    """The undecidable issue that stands for a rule that raised on ``resource``."""
    return undecidable(
        f"rule {rule.id} raised {type(exc).__name__} on {resource.logical_id}"
        f" ({resource.type}): {_one_line(exc)}; the resource was not judged by this rule"
    )


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    if len(text) > ERROR_MESSAGE_LIMIT:
        text = text[: ERROR_MESSAGE_LIMIT - 1].rstrip() + "…"
    return text


def evaluate(
    templates: list[Template], policy: Policy, rules: Iterable[Rule] | None = None
) -> Result:
    """Judge ``templates`` under ``policy``; acknowledged findings keep their reason.

    A rule that raises on a resource does not stop the run: the error becomes an undecidable
    finding of that rule on that resource (severity ``undecidable_severity``), and every other
    rule and resource is still judged.
    """
    chosen = [r for r in (all_rules() if rules is None else rules) if policy.enabled(r.id)]
    by_type, wildcard = _index(chosen)
    severities = {r.id: policy.severity_for(r.id, r.category, r.severity) for r in chosen}
    fixes: dict[str, str] = {}  # a rule's fix text, read from its docstring on its first finding
    findings: list[Finding] = []
    evaluated: Counter = Counter()
    judged_types: Counter = Counter()  # resources per type: each of its rules judged each one
    plans: dict[str, list[Rule]] = {}  # the rules of each resource type, wildcard ones last
    for template in templates:
        template.siblings = templates
        acks = template.acknowledgements
        for resource in template.resources.values():
            plan = plans.get(resource.type)
            if plan is None:
                plan = plans[resource.type] = by_type.get(resource.type, []) + wildcard
            if not plan:
                continue
            judged_types[resource.type] += 1
            construct_path: str | None | bool = False  # read on the resource's first finding
            for r in plan:
                # The guard, inline (this loop runs once per rule and resource): a rule that
                # raises keeps what it yielded so far and adds one undecidable issue naming
                # the rule, the resource and the error - the run goes on.
                issues: list[Issue] | None = None
                try:
                    for issue in r.func(resource, policy):
                        if not isinstance(issue, Issue):
                            raise TypeError(f"rule yielded {type(issue).__name__}, not an Issue")
                        if issues is None:
                            issues = [issue]
                        else:
                            issues.append(issue)
                except Exception as exc:  # a broken rule must not stop the run
                    issues = [*(issues or ()), _failure(r, resource, exc)]
                if issues is None:
                    continue
                ack = acks.get((r.id, resource.logical_id)) if acks else None
                fix = fixes[r.id] if r.id in fixes else fixes.setdefault(r.id, r.fix)
                if construct_path is False:
                    construct_path = resource.construct_path
                for issue in issues:
                    finding = Finding(
                        rule_id=r.id,
                        severity=(
                            policy.undecidable_severity if issue.undecidable else severities[r.id]
                        ),
                        title=r.title,
                        message=issue.message,
                        stack=template.name,
                        logical_id=resource.logical_id,
                        resource_type=resource.type,
                        template_path=template.path,
                        construct_path=construct_path,
                        property_path=issue.path,
                        pci=r.pci,
                        undecidable=issue.undecidable,
                        fix=fix,
                        category=r.category,
                    )
                    if ack is not None:
                        finding.status = "acknowledged"
                        finding.reason = ack.get("reason")
                    findings.append(finding)
    for resource_type, count in judged_types.items():
        for r in plans[resource_type]:
            evaluated[r.id] += count
    # Exception records in template metadata: attached to their findings; expired ones and
    # acknowledgements of non-waivable rules come back as findings of their own.
    findings.extend(govern_exceptions(templates, findings, policy))
    return Result(templates=templates, findings=findings, evaluated=evaluated, rules=chosen)


def evaluate_isolating(
    templates: list[Template], policy: Policy, rules: Iterable[Rule] | None = None
) -> tuple[Result, list[tuple[Template, Exception]]]:
    """:func:`evaluate`, with one template as the boundary when the engine itself raises.

    Rules are guarded one by one inside :func:`evaluate`; what can still raise is the work around
    them (exception records, indexes). Then each template is judged alone to find the ones that
    raise, those are set aside with their error, and the rest are judged together again, so a
    template that breaks the engine costs its own findings only.
    """
    rules = list(all_rules() if rules is None else rules)
    try:
        return evaluate(templates, policy, rules), []
    except Exception:  # noqa: BLE001 - isolated below, template by template
        pass
    good: list[Template] = []
    bad: list[tuple[Template, Exception]] = []
    for template in templates:
        try:
            evaluate([template], policy, rules)
            good.append(template)
        except Exception as exc:  # noqa: BLE001 - reported as that template's input error
            bad.append((template, exc))
    return evaluate(good, policy, rules), bad
