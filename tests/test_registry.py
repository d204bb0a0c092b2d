"""Meta-tests over the rule catalogue: ids, metadata, docs, tests, and RULES.md freshness."""

import json
import re
import shutil
import subprocess
import sys
import tarfile
from functools import cache
from pathlib import Path

import pytest

from governance.cdknag import CDK_NAG_PACKS, is_nag_rule_id
from governance.cli import main
from governance.docs import render_markdown
from governance.model import Category, Severity
from governance.registry import CHECKOV_ID_PATTERN, RULE_ID_PATTERN, SLUG_PATTERN, all_rules, rule
from rules import RETIRED_IDS

ROOT = Path(__file__).resolve().parent.parent
PCI_REQ = re.compile(r"^\d+(\.\d+)*$")
CHECKOV_ROOT = next((ROOT / ".checkov-venv" / "lib").glob("python3*/site-packages/checkov"), None)


def test_ids_unique_well_formed_and_never_retired():
    rules = all_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not RULE_ID_PATTERN.match(i)] == []
    assert set(ids) & RETIRED_IDS == set()
    slugs = [r.slug for r in rules]
    assert len(slugs) == len(set(slugs))
    assert [s for s in slugs if not SLUG_PATTERN.match(s)] == []


def test_metadata_is_typed_and_complete():
    for r in all_rules():
        assert isinstance(r.severity, Severity), r.id
        assert r.resource_types and all(isinstance(t, str) for t in r.resource_types), r.id
        assert isinstance(r.category, Category) and r.title, r.id
        assert all(PCI_REQ.match(p) for p in r.pci), (r.id, r.pci)


def test_every_category_has_rules():
    assert {r.category for r in all_rules()} == set(Category)


def test_declared_equivalents_have_valid_shapes():
    for r in all_rules():
        assert [c for c in r.checkov if not CHECKOV_ID_PATTERN.fullmatch(c)] == [], r.id
        assert [n for n in r.cdk_nag if not is_nag_rule_id(n, granular=False)] == [], r.id
        assert len(set(r.checkov)) == len(r.checkov) and len(set(r.cdk_nag)) == len(r.cdk_nag)


def test_bad_metadata_fails_at_registration():
    def fn(resource, policy):
        return iter(())

    common = dict(id="TEST-META-001", slug="t", title="t", severity=Severity.INFO)
    common["resource_types"] = ("AWS::S3::Bucket",)
    with pytest.raises(TypeError, match="category must be a governance.model.Category"):
        rule(**common, category="encryption")(fn)
    with pytest.raises(ValueError, match="not a checkov or cdk-nag rule id: CKV_AWS19"):
        rule(**common, category=Category.ENCRYPTION, checkov=("CKV_AWS19",))(fn)
    with pytest.raises(ValueError, match="AwsSolution-S1"):
        rule(**common, category=Category.ENCRYPTION, cdk_nag=("AwsSolution-S1",))(fn)
    assert "TEST-META-001" not in {r.id for r in all_rules()}


@cache
def _checkov_ids() -> frozenset[str]:
    """Ids of checkov's CloudFormation checks, read from its installed source."""
    assert CHECKOV_ROOT is not None
    found: set[str] = set()
    pattern = re.compile(r"""(?:\bid\s*=|check_id\s*=|"id"\s*:)\s*["'](CKV2?_AWS_\d+)["']""")
    for path in (CHECKOV_ROOT / "cloudformation" / "checks").rglob("*"):
        if path.suffix in (".py", ".json", ".yaml"):
            found.update(pattern.findall(path.read_text(errors="replace")))
    return frozenset(found)


def test_declared_checkov_checks_exist_in_the_installed_checkov():
    if CHECKOV_ROOT is None:
        pytest.skip("checkov is not installed (make .checkov-venv/.installed)")
    known = _checkov_ids()
    assert {
        "CKV_AWS_19",
        "CKV_AWS_24",
        "CKV2_AWS_72",
    } <= known  # the three ways checks are declared
    unknown = {(r.id, c) for r in all_rules() for c in r.checkov if c not in known}
    assert unknown == set()


def _cdk_nag_rule_ids() -> set[str]:
    """``<pack>-<rule>`` ids of every pack, read from the installed cdk-nag's JavaScript."""
    import cdk_nag

    bundle = next((Path(cdk_nag.__file__).parent / "_jsii").glob("cdk-nag@*.jsii.tgz"))
    files = {
        p.name: f"package/lib/packs/{f}.js" for p, f in zip(CDK_NAG_PACKS, _PACK_FILES, strict=True)
    }
    ids: set[str] = set()
    with tarfile.open(bundle) as tar:
        for pack, member in files.items():
            source = tar.extractfile(member).read().decode()
            # AwsSolutions and Serverless name rules by suffix; the compliance packs by function
            suffixes = re.findall(r"ruleSuffixOverride:\s*['\"]([A-Za-z0-9]+)['\"]", source)
            functions = re.findall(r"\brule:\s*[A-Za-z0-9_]+\.([A-Za-z0-9]+)", source)
            ids.update(f"{pack}-{name}" for name in suffixes or functions)
    return ids


_PACK_FILES = (
    "aws-solutions",
    "pci-dss-321",
    "hipaa-security",
    "nist-800-53-r4",
    "nist-800-53-r5",
    "serverless",
)


def test_declared_cdk_nag_rules_exist_in_the_installed_cdk_nag():
    known = _cdk_nag_rule_ids()
    assert {"AwsSolutions-S10", "PCI.DSS.321-S3DefaultEncryptionKMS"} <= known
    unknown = {(r.id, n) for r in all_rules() for n in r.cdk_nag if n not in known}
    assert unknown == set()


def test_rules_json_carries_category_and_equivalents(capsys):
    assert main(["rules", "--format", "json"]) == 0
    by_id = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert by_id["ENC-001"]["category"] == "encryption"
    assert by_id["ENC-001"]["checkov"] == ["CKV_AWS_19"]
    assert by_id["ENC-001"]["cdk_nag"] == ["PCI.DSS.321-S3DefaultEncryptionKMS"]
    assert by_id["NAME-001"]["checkov"] == [] and by_id["NAME-001"]["cdk_nag"] == []
    declared = {r.id: (list(r.checkov), list(r.cdk_nag)) for r in all_rules()}
    assert {k: (v["checkov"], v["cdk_nag"]) for k, v in by_id.items()} == declared


def test_every_rule_documents_why_fix_example():
    missing = [
        (r.id, name)
        for r in all_rules()
        for name in ("Summary", "Why", "Fix", "Example")
        if not r.doc_section(name)
    ]
    assert missing == []


def test_every_rule_has_a_test():
    test_text = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    untested = [r.id for r in all_rules() if f'"{r.id}"' not in test_text]
    assert untested == []


def test_rules_md_shows_the_equivalents():
    text = (ROOT / "RULES.md").read_text()
    section = text[text.index("### ENC-006") : text.index("### ENC-007")]
    assert "checkov `CKV_AWS_16`, `CKV_AWS_96`" in section
    assert "cdk-nag `AwsSolutions-RDS2`, `PCI.DSS.321-RDSStorageEncrypted`" in section


def test_rules_md_is_generated_and_fresh():
    assert (ROOT / "RULES.md").read_text() == render_markdown(), (
        "RULES.md is stale: run `make rules-doc` (govern rules --format markdown > RULES.md)"
    )


# --- scaffolding a rule (scripts/new_rule.py), always in a temporary copy ----------------------

SCAFFOLD_MARKER = "SCAFFOLD"


def scaffold_markers(root: Path) -> list[str]:
    """Files under ``root``'s rules and rule tests that still carry the scaffold's marker."""
    paths = [*(root / "rules").glob("*.py"), *(root / "tests" / "rule_tests").glob("test_*.py")]
    return sorted(str(p.relative_to(root)) for p in paths if SCAFFOLD_MARKER in p.read_text())


def test_no_scaffold_is_left_in_the_catalogue():
    assert scaffold_markers(ROOT) == []


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The parts of the project a scaffold touches and its tests need, copied."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("governance", "rules"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copytree(ROOT / "tests" / "rule_tests", copy / "tests" / "rule_tests", ignore=ignore)
    for name in ("RULES.md", "pyproject.toml", "cdk.json"):
        shutil.copy(ROOT / name, copy / name)
    for name in ("conftest.py", "helpers.py", "synth_support.py"):
        shutil.copy(ROOT / "tests" / name, copy / "tests" / name)
    return copy


def _scaffold(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(ROOT / "scripts" / "new_rule.py"), "--root", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _pytest(root: Path, target: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)


EFS = [
    "--id", "ENC-009", "--slug", "efs-without-cmk", "--severity", "error",
    "--title", "EFS file system encrypted with a customer-managed KMS key",
    "--category", "encryption", "--type", "AWS::EFS::FileSystem", "--pci", "3.5.1",
    "--cdk-nag", "AwsSolutions-EFS1",
]  # fmt: skip


def test_scaffold_adds_rule_test_and_docs_and_the_test_fails_until_written(project_copy):
    before = {p: p.read_bytes() for p in (ROOT / "rules").glob("*.py")}
    proc = _scaffold(project_copy, *EFS)
    assert proc.returncode == 0, proc.stderr
    rule_text = (project_copy / "rules" / "encryption.py").read_text()
    assert 'id="ENC-009"' in rule_text and 'cdk_nag=("AwsSolutions-EFS1",)' in rule_text
    assert "def efs_without_cmk(resource: Resource, policy: Policy)" in rule_text
    assert "### ENC-009" in (project_copy / "RULES.md").read_text()
    assert scaffold_markers(project_copy) == [
        "rules/encryption.py",
        "tests/rule_tests/test_encryption.py",
    ]
    run = _pytest(project_copy, "tests/rule_tests/test_encryption.py")
    assert run.returncode == 1 and "1 failed, " in run.stdout, run.stdout[-2000:]
    assert "test_enc_009_efs_without_cmk" in run.stdout
    # the real catalogue is untouched
    assert {p: p.read_bytes() for p in (ROOT / "rules").glob("*.py")} == before
    again = _scaffold(project_copy, *EFS)
    assert (again.returncode, again.stderr) == (
        2,
        "new_rule: --id ENC-009 is taken (registered or retired)\n",
    )


def test_scaffold_into_a_new_module_passes_once_written(project_copy):
    args = [
        "--id", "STOR-001", "--slug", "efs-without-backup", "--severity", "warning",
        "--title", 'EFS file systems have "automatic backups" on', "--category", "pci-backup",
        "--type", "AWS::EFS::FileSystem", "--module", "storage", "--about", "File storage rules",
    ]  # fmt: skip
    assert _pytest(project_copy, "tests/rule_tests").returncode == 0  # the copy is sound
    proc = _scaffold(project_copy, *args)
    assert proc.returncode == 0, proc.stderr
    rule_path = project_copy / "rules" / "storage.py"
    test_path = project_copy / "tests" / "rule_tests" / "test_storage.py"
    assert rule_path.read_text().startswith('"""File storage rules."""')
    rules_md = (project_copy / "RULES.md").read_text()
    assert '**EFS file systems have "automatic backups" on**' in rules_md  # quotes survive
    assert _pytest(project_copy, str(test_path)).returncode == 1
    # written: the rule judges the policy, the test's resources differ
    rule_path.write_text(
        rule_path.read_text()
        .replace("    yield from ()\n", '    if resource.prop("BackupPolicy", "Status") != "ENABLED":\n'
                 '        yield violation("no automatic backups", "Properties/BackupPolicy")\n')
        .replace("from governance.model import", "from governance.model import violation,")
    )  # fmt: skip
    backups = '{"BackupPolicy": {"Status": "ENABLED"}}'
    test_path.write_text(
        test_path.read_text().replace('"Properties": {}}', f'"Properties": {backups}}}', 1)
    )
    run = _pytest(project_copy, str(test_path))
    assert run.returncode == 0, run.stdout[-2000:]


def test_scaffold_refuses_bad_arguments_in_one_line(project_copy):
    cases = [
        (["--category", "encrytion"], "--category 'encrytion' is unknown"),
        (["--module", "brand_new"], "rules/brand_new.py is new: say what it is for with --about"),
        (["--checkov", "CKV_19"], "'CKV_19' is not a checkov check id"),
        (["--slug", "bucket-without-cmk"], "--slug 'bucket-without-cmk' is taken"),
    ]
    for extra, message in cases:
        args = list(EFS)
        for flag, value in zip(extra[::2], extra[1::2], strict=True):
            if flag in args:
                args[args.index(flag) + 1] = value
            else:
                args += [flag, value]
        proc = _scaffold(project_copy, *args)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert message in proc.stderr
    assert scaffold_markers(project_copy) == []
