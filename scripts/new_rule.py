"""Scaffold a new rule: its function in its concern module, its test, and a regenerated RULES.md.

    .venv/bin/python scripts/new_rule.py --id ENC-009 --slug efs-without-cmk \\
        --title "EFS file system encrypted with a customer-managed KMS key" \\
        --severity error --category encryption --type AWS::EFS::FileSystem --pci 3.5.1 \\
        [--checkov CKV_AWS_184] [--cdk-nag AwsSolutions-EFS1] [--module encryption] \\
        [--about "What a new module is for"] [--root DIR]

The rule goes into ``rules/<module>.py`` (by default the module that already holds rules of the
category; a new module needs ``--about``), its test into ``tests/rule_tests/test_<module>.py``.
Both carry ``SCAFFOLD`` markers, and the test's compliant and non-compliant resources are
identical until someone writes them, so the scaffold cannot pass as done: the test fails
whatever the rule does, and ``tests/test_registry.py`` fails while a marker is left.

Exit codes: 0 scaffolded, 2 bad arguments (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

MARKER = "SCAFFOLD"
RESOURCE_TYPE = re.compile(r"[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+")
PCI_REQUIREMENT = re.compile(r"\d+(\.\d+)*")
MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*")

RULE_IMPORTS = {
    "Iterator": "from collections.abc import Iterator",
    "Category": "from governance.model import Category",
    "Issue": "from governance.model import Issue",
    "Severity": "from governance.model import Severity",
    "Policy": "from governance.policy import Policy",
    "rule": "from governance.registry import rule",
    "Resource": "from governance.template import Resource",
}


class ScaffoldError(Exception):
    """A bad argument: printed as one line, exit code 2."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--id", required=True, help="stable rule id, e.g. ENC-009")
    parser.add_argument("--slug", required=True, help="the violation's name, e.g. efs-without-cmk")
    parser.add_argument("--title", required=True, help="what a compliant resource does")
    parser.add_argument("--severity", required=True, help="info, warning or error")
    parser.add_argument("--category", required=True, help="a governance.model.Category value")
    parser.add_argument("--type", dest="types", action="append", required=True, metavar="TYPE")
    parser.add_argument("--pci", action="append", default=[], metavar="REQUIREMENT")
    parser.add_argument("--checkov", action="append", default=[], metavar="CHECK_ID")
    parser.add_argument("--cdk-nag", dest="cdk_nag", action="append", default=[], metavar="RULE")
    parser.add_argument("--module", help="rules/<module>.py (default: the category's module)")
    parser.add_argument("--about", help="module docstring, when --module names a new module")
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent.parent, help="project root"
    )
    return parser.parse_args(argv)


def load_project(root: Path):
    """The ``governance`` and ``rules`` packages of ``root`` (not of whatever is installed)."""
    if not (root / "governance" / "registry.py").is_file():
        raise ScaffoldError(f"{root} is not the project root (no governance/registry.py)")
    sys.path.insert(0, str(root))
    import rules
    from governance import cdknag, model, registry

    return model, registry, cdknag, rules


def check(args: argparse.Namespace, model, registry, cdknag, rules_pkg) -> str:
    """Validate the arguments against the project's registry; returns the target module name."""
    known = registry.all_rules()
    if not registry.RULE_ID_PATTERN.match(args.id):
        raise ScaffoldError(f"--id {args.id!r} is not a rule id (like ENC-009 or PCI-LOG-011)")
    if args.id in {r.id for r in known} or args.id in rules_pkg.RETIRED_IDS:
        raise ScaffoldError(f"--id {args.id} is taken (registered or retired)")
    if not registry.SLUG_PATTERN.match(args.slug) or args.slug in {r.slug for r in known}:
        raise ScaffoldError(f"--slug {args.slug!r} is taken or not lower-case-with-hyphens")
    if args.severity.lower() not in {str(s) for s in model.Severity}:
        raise ScaffoldError(f"--severity {args.severity!r} is not one of info, warning, error")
    if args.category not in {c.value for c in model.Category}:
        allowed = ", ".join(c.value for c in model.Category)
        raise ScaffoldError(f"--category {args.category!r} is unknown (allowed: {allowed})")
    for value, pattern, what in (
        *((t, RESOURCE_TYPE, "a CloudFormation type") for t in args.types),
        *((p, PCI_REQUIREMENT, "a PCI DSS requirement number") for p in args.pci),
        *((c, registry.CHECKOV_ID_PATTERN, "a checkov check id") for c in args.checkov),
    ):
        if not pattern.fullmatch(value):
            raise ScaffoldError(f"{value!r} is not {what}")
    for name in args.cdk_nag:
        if not cdknag.is_nag_rule_id(name, granular=False):
            raise ScaffoldError(f"{name!r} is not a cdk-nag rule id (like AwsSolutions-S10)")
    if args.module is None:
        modules = Counter(r.module.rpartition(".")[2] for r in known if r.category == args.category)
        if not modules:
            raise ScaffoldError(f"no module holds {args.category} rules yet: give --module")
        return modules.most_common(1)[0][0]
    if not MODULE_NAME.fullmatch(args.module):
        raise ScaffoldError(f"--module {args.module!r} is not a module name (lower_case)")
    path = args.root / "rules" / f"{args.module}.py"
    if not path.is_file() and not args.about:
        raise ScaffoldError(f"rules/{args.module}.py is new: say what it is for with --about")
    return args.module


def _tuple(values: list[str]) -> str:
    inner = ", ".join(f'"{v}"' for v in values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"


def rule_source(args: argparse.Namespace, category_member: str) -> str:
    func = args.slug.replace("-", "_")
    lines = [
        "@rule(",
        f'    id="{args.id}",',
        f'    slug="{args.slug}",',
        f"    title={json.dumps(args.title, ensure_ascii=False)},",
        f"    severity=Severity.{args.severity.upper()},",
        f"    resource_types={_tuple(args.types)},",
        f"    category=Category.{category_member},",
    ]
    if args.pci:
        lines.append(f"    pci={_tuple(args.pci)},")
    if args.checkov:
        lines.append(f"    checkov={_tuple(args.checkov)},")
    if args.cdk_nag:
        lines.append(f"    cdk_nag={_tuple(args.cdk_nag)},")
    lines.append(")")
    body = f'''
def {func}(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """{MARKER}: one sentence on what a compliant resource looks like.

    Why:
        {MARKER}: what goes wrong otherwise, naming the AWS document or PCI DSS requirement.

    Fix:
        {MARKER}: the CDK change that makes the resource compliant.

    Example:
        {MARKER}: a compliant construct
    """
    # {MARKER}: judge resource.prop(...) and yield violation(...) or undecidable(...); thresholds
    # and names come from policy.thresholds, never literals.
    yield from ()
'''
    return "\n".join(lines) + body


def test_source(args: argparse.Namespace) -> str:
    func = args.slug.replace("-", "_")
    prefix = args.id.lower().replace("-", "_")
    resource = f'{{"Type": "{args.types[0]}", "Properties": {{}}}}'
    return f'''

def test_{prefix}_{func}():
    # {MARKER}: make "Compliant" compliant and "NonCompliant" break {args.id}. While the two are
    # the same resource this test cannot pass, whatever the rule does.
    resources = {{
        "Compliant": {resource},
        "NonCompliant": {resource},
    }}
    assert failing("{args.id}", resources) == {{"NonCompliant"}}
'''


def add_imports(text: str, needed: dict[str, str]) -> str:
    """``text`` with an import line for every name in ``needed`` it does not import yet."""
    missing = [
        line
        for name, line in needed.items()
        if not re.search(rf"^(from \S+ )?import [^\n]*\b{re.escape(name)}\b", text, re.M)
    ]
    if not missing:
        return text
    lines = text.splitlines(keepends=True)
    last_import = max(
        (i for i, line in enumerate(lines) if line.startswith(("import ", "from "))), default=None
    )
    if last_import is None:  # after the module docstring
        end = text.index('"""', 3) + 3
        return text[:end] + "\n\n" + "\n".join(missing) + "\n" + text[end:]
    lines.insert(last_import + 1, "\n".join(missing) + "\n")
    return "".join(lines)


def write_rule(args: argparse.Namespace, module: str, member: str) -> Path:
    path = args.root / "rules" / f"{module}.py"
    if path.is_file():
        text = path.read_text()
        if re.search(rf"^def {args.slug.replace('-', '_')}\(", text, re.M):
            raise ScaffoldError(f"rules/{module}.py already has a function {args.slug}")
    else:
        text = f'"""{args.about.strip().rstrip(".")}."""\n\nfrom __future__ import annotations\n'
    text = add_imports(text, RULE_IMPORTS).rstrip("\n") + "\n\n\n" + rule_source(args, member)
    path.write_text(text)
    return path


def write_test(args: argparse.Namespace, module: str) -> Path:
    path = args.root / "tests" / "rule_tests" / f"test_{module}.py"
    text = path.read_text() if path.is_file() else f'"""{args.id}: {args.title}."""\n'
    text = add_imports(text, {"failing": "from helpers import failing"})
    path.write_text(text.rstrip("\n") + "\n" + test_source(args))
    return path


def tidy(root: Path, paths: list[Path]) -> None:
    """Sort imports and format the written files with the project's ruff, when there is one."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return
    files = [str(p) for p in paths]
    subprocess.run([ruff, "check", "--fix", "--select", "I", "-q", *files], cwd=root, check=False)
    subprocess.run([ruff, "format", "-q", *files], cwd=root, check=False)


def regenerate_rules_md(root: Path) -> None:
    """RULES.md from ``root``'s registry, in a fresh interpreter that sees the new rule."""
    code = "import sys; from governance.docs import render_markdown; sys.stdout.write(render_markdown())"
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ScaffoldError(f"the new rule does not load: {last}")
    (root / "RULES.md").write_text(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.root = args.root.resolve()
    try:
        model, registry, cdknag, rules_pkg = load_project(args.root)
        module = check(args, model, registry, cdknag, rules_pkg)
        member = model.Category(args.category).name
        rule_path = write_rule(args, module, member)
        test_path = write_test(args, module)
        tidy(args.root, [rule_path, test_path])
        regenerate_rules_md(args.root)
    except ScaffoldError as exc:
        print(f"new_rule: {exc}", file=sys.stderr)
        return 2
    print(
        textwrap.dedent(
            f"""\
            {args.id} scaffolded:
              {rule_path.relative_to(args.root)}  write the rule and its Why / Fix / Example
              {test_path.relative_to(args.root)}  write the compliant and non-compliant resources
              RULES.md regenerated (again with `make rules-doc` once the docstring is written)
            The test fails until both are written."""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
