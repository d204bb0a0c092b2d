"""governance.pci: the PCI DSS v4.0.1 catalogue and the rules that cover it."""

import pytest

from governance.pci import (
    CatalogueError,
    coverage,
    parse,
    requirement,
    requirements,
    unknown_references,
)
from governance.registry import all_rules


def test_every_rule_reference_is_in_the_catalogue():
    assert unknown_references(all_rules()) == {}


def test_every_decidable_requirement_is_covered_or_marked_as_a_gap():
    cov = coverage()
    uncovered = {r.number for r in requirements() if r.decidable and not cov[r.number]}
    marked = {r.number for r in requirements() if r.gap}
    assert uncovered == marked
    # a gap that a rule has since closed must be removed from the file
    assert {r.number for r in requirements() if r.gap and cov[r.number]} == set()


def test_not_decidable_requirements_say_why():
    not_decidable = [r for r in requirements() if not r.decidable]
    assert {"11.4.3", "8.4.2", "11.3.1", "12.10.1", "12.6.1"} <= {r.number for r in not_decidable}
    assert all(r.reason for r in not_decidable)
    assert requirement("12.10.1").status(coverage()["12.10.1"]) == "not decidable"


def test_statuses_and_coverage():
    cov = coverage()
    assert requirement("4.2.1").status(cov["4.2.1"]) == "covered"
    assert "PCI-TLS-001" in {r.id for r in cov["4.2.1"]}
    assert requirement("10.5.1").status(cov["10.5.1"]) == "covered"
    assert requirement("7.2.6").status(cov["7.2.6"]) == "not covered"
    numbers = [r.number for r in requirements()]
    assert numbers.index("10.2.1") < numbers.index("10.2.1.1") < numbers.index("10.2.2")
    with pytest.raises(KeyError):
        requirement("99.1")


def test_coverage_of_a_subset_of_rules():
    rules = [r for r in all_rules() if r.id == "PCI-RT-001"]
    cov = coverage(rules)
    assert [r.id for r in cov["6.3.3"]] == ["PCI-RT-001"]
    assert cov["4.2.1"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("requirements: {}", "no 'requirements' list"),
        ("requirements: [{number: 4.2, summary: x, decidable: true}]", "number must be a string"),
        (
            "requirements: [{number: '4.2.1', summary: x, decidable: false}]",
            "needs a reason",
        ),
        (
            "requirements: [{number: '4.2.1', summary: x, decidable: true, reason: r}]",
            "only for requirements that are not decidable",
        ),
        (
            "requirements: [{number: '4.2.1', summary: x, decidable: true},"
            " {number: '4.2.1', summary: y, decidable: true}]",
            "listed twice",
        ),
        ("requirements: [{number: '4.2.1', summary: x, decidable: yes_please}]", "true or false"),
        (
            "requirements: [{number: '4.2.1', summary: x, decidable: true, owner: me}]",
            "unknown keys",
        ),
    ],
)
def test_malformed_catalogue(text, message):
    with pytest.raises(CatalogueError, match=message):
        parse(text)
