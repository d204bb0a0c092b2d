"""The fast YAML builder gives what PyYAML's constructor gives, value for value and error for error.

``governance.reading_yaml`` builds alias-free YAML trees itself (PyYAML's generic constructor was most
of a run's time) and leaves anchors, merge keys, odd tags and odd keys to the loader. These
properties hold it to the loader's results on generated documents: plain and tagged collections,
YAML 1.1 scalars that are not strings (``yes``, ``0x1F``, ``1_000``, ``~``, ``.inf``), quoted
look-alikes, short forms at any depth, merge keys and non-string keys.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.reading import DEFAULT_LIMITS, InputError, Limits, parse_text
from governance.reading_yaml import CfnLoader

SCALARS = [
    "yes", "No", "on", "~", "null", "0x1F", "0o17", "017", "1_000", "1:30", "-.inf", ".nan",
    "1e3", "3.14", "2010-09-09", "true", "''", '"yes"', "'0x1F'", "plain text", "a: b",
    "!Ref Bucket", "!GetAtt Role.Arn", "!Sub '${AWS::Region}'", "!!str 12", "!!int 12",
]  # fmt: skip
TAGS = ["!Join", "!If", "!Sub", "!Select", "!Rain::Module", "!Equals", "!FindInMap"]


def _old(text: str) -> Any:
    """What PyYAML's constructor builds for ``text`` (the reading before the fast builder)."""
    loader = CfnLoader(text)
    try:
        root = loader.get_single_node()
        return None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()


def _render(value: Any, indent: int = 0) -> str:
    """Block-style YAML for a tree of ('map', [(key, v)]), ('seq', [v]), ('tag', t, v) or a
    scalar's source text."""
    pad = " " * indent
    kind = value[0] if isinstance(value, tuple) else None
    if kind == "map" and value[1]:
        return "".join(f"\n{pad}{k}: {_render(v, indent + 2)}" for k, v in value[1])
    if kind == "seq" and value[1]:
        return "".join(f"\n{pad}- {_render(v, indent + 2)}" for v in value[1])
    if kind == "tag":
        return f"{value[1]} [{', '.join(_flow(v) for v in value[2])}]"
    if kind in ("map", "seq"):
        return "{}" if kind == "map" else "[]"
    return value


def _flow(value: Any) -> str:
    kind = value[0] if isinstance(value, tuple) else None
    if kind == "map":
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value[1]) + "}"
    if kind == "seq":
        return "[" + ", ".join(_flow(v) for v in value[1]) + "]"
    if kind == "tag":
        return f"{value[1]} [{', '.join(_flow(v) for v in value[2])}]"
    return value


KEYS = st.sampled_from(["Type", "Properties", "Ref", "a", "1", "true", "'x y'", "Fn::Sub"])
SCALAR = st.sampled_from(SCALARS)
TREES = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.tuples(st.just("map"), st.lists(st.tuples(KEYS, inner), max_size=4)),
        st.tuples(st.just("seq"), st.lists(inner, max_size=4)),
        st.tuples(st.just("tag"), st.sampled_from(TAGS), st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=25,
)


def _outcome(fn: Any, text: str) -> Any:
    try:
        return ("value", fn(text))
    except Exception as exc:  # the kind of failure is compared
        return ("error", type(exc).__name__ in ("InputError", "ConstructorError", "_Located"))


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_builder_matches_the_constructor(tree: Any) -> None:
    text = "Resources:" + _render(("map", [("R", tree)]), 2) + "\n"
    old = _outcome(_old, text)
    new = _outcome(lambda t: parse_text(t, "t.yaml"), text)
    if old[0] == "value":
        assert new == old, text
    else:
        assert new[0] == "error", text


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n",  # anchors: the loader's path
        "x:\n  <<: {a: 1}\n  c: 2\n",  # a merge key without an anchor
        "x:\n  80: http\n  443: https\n",  # integer keys
        "x: !!set {a, b}\n",
        "x: !GetAtt Role.Arn\ny: !Ref B\n",
        "x: [!Join ['', [a, !Ref B]]]\n",
        "x: &only-an-anchor {a: 1}\ny: [&b 2, 3]\n",  # anchors without an alias: a tree
        "x: &a {a: 1}\ny: |\n  ls *.txt && echo *\n",  # only looks like an alias
        "x:\n  1: a\n  01: b\n",  # two keys built alike, written differently: not a duplicate
    ],
)
def test_builder_matches_the_constructor_on_the_loaders_cases(text: str) -> None:
    assert parse_text(text, "t.yaml") == _old(text)


def test_depth_is_counted_as_before_and_names_the_line() -> None:
    deep = "x: " + "[" * 5 + "1" + "]" * 5 + "\n"
    assert parse_text(deep, "t.yaml", Limits(max_depth=6)) == _old(deep)
    with pytest.raises(InputError, match=r"nested more than 5 levels deep at line 1"):
        parse_text(deep, "t.yaml", Limits(max_depth=5))
    tagged = "x: !Join ['', [a]]\n"  # mapping, wrapper mapping, list, list: four levels
    assert parse_text(tagged, "t.yaml", Limits(max_depth=4)) == {"x": {"Fn::Join": ["", ["a"]]}}
    with pytest.raises(InputError, match="--max-depth"):
        parse_text(tagged, "t.yaml", Limits(max_depth=3))
    assert DEFAULT_LIMITS.max_depth >= 100


#: Ten uses of the alias ``*p`` as one sequence, each form writing every alias the same way.
ALIAS_FORMS = {
    "after a space": lambda p: "[0, " + ", ".join([f"*{p}"] * 10) + "]",
    "after a comma": lambda p: "[0," + ",".join([f"*{p}"] * 10) + "]",
    "after a bracket": lambda p: "[" + ", ".join([f"[*{p}]"] * 10) + "]",
    "after a brace, as a key": lambda p: "[" + ", ".join([f"{{*{p} : 1}}"] * 10) + "]",
    "in a block sequence": lambda p: "".join(f"\n  - *{p}" for _ in range(10)),
    "after a quoted key's colon": lambda p: (
        "{" + ", ".join(f'"k{i}":*{p}' for i in range(10)) + "}"
    ),
    "after a flow key's colon": lambda p: "[" + ", ".join([f"[0]:*{p}"] * 10) + "]",
    "after a line break": lambda p: "[0,\n" + ",\n".join([f"*{p}"] * 10) + "]",
    "after YAML's other line breaks": lambda p: (
        "[0," + "".join(f"{brk}*{p}," for brk in ["\x85", "\u2028", "\u2029"] * 4) + "1]"
    ),
}


@pytest.mark.parametrize("form", ALIAS_FORMS)
def test_every_way_to_write_an_alias_is_counted(form: str) -> None:
    """However its aliases are written, a bomb takes the counted path and is refused."""
    write = ALIAS_FORMS[form]
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} {write(chr(97 + i))}\n" for i in range(6)
    )
    with pytest.raises(InputError, match="aliases expand to more than 100,000 nodes"):
        parse_text(text, "t.yaml", Limits(max_yaml_nodes=100_000))


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(SCALAR, st.text(max_size=12), st.from_regex(r"[-+.~0-9a-zA-Z_:]{0,10}")),
    st.sampled_from([(True, False), (False, True), (False, False)]),
)
def test_tag_resolution_is_pyyamls(value: str, implicit: tuple[bool, bool]) -> None:
    """The loader's fast tag resolution decides as PyYAML's generic one, for every kind of node."""
    loader = CfnLoader("")
    try:
        for kind in (yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode):
            assert loader.resolve(kind, value, implicit) == yaml.resolver.BaseResolver.resolve(
                loader, kind, value, implicit
            ), (kind, value, implicit)
    finally:
        loader.dispose()
