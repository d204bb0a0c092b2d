"""Meta-tests over the rule catalogue: ids, metadata, docs, tests, and RULES.md freshness."""

import re
from pathlib import Path

from governance.docs import render_markdown
from governance.model import Severity
from governance.registry import RULE_ID_PATTERN, SLUG_PATTERN, all_rules
from rules import RETIRED_IDS

ROOT = Path(__file__).resolve().parent.parent
PCI_REQ = re.compile(r"^\d+(\.\d+)*$")


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
        assert r.category and r.title, r.id
        assert all(PCI_REQ.match(p) for p in r.pci), (r.id, r.pci)


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


def test_rules_md_is_generated_and_fresh():
    assert (ROOT / "RULES.md").read_text() == render_markdown(), (
        "RULES.md is stale: run `make rules-doc` (govern rules --format markdown > RULES.md)"
    )
