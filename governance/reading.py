"""Reading template files under limits: bytes, nesting, expanded YAML nodes, regular files only.

Every problem with one file is an :class:`InputError` naming the file and the problem, so the
caller prints one line and goes on with the next input. What is refused, and why:

* anything but a regular file (a FIFO would block, ``/dev/zero`` never ends), and files larger
  than :attr:`Limits.max_bytes` - checked on the open descriptor, the read stops at the limit;
* JSON that is not JSON (``Infinity``, ``NaN``), integers Python will not convert (more than
  4,300 digits), YAML whose tags do not fit their value (``!!int lots``), strings with a lone
  surrogate (no UTF-8 output could carry them);
* nesting deeper than :attr:`Limits.max_depth`, and YAML whose aliases expand to more than
  :attr:`Limits.max_yaml_nodes` nodes (a 2 KB "billion laughs" document expands to millions);
  both are counted on the composed YAML graph before anything is built;
* duplicate keys in a mapping, as cfn-lint refuses them (its ``E0000``): CloudFormation
  documents the behaviour as undefined, Python would silently keep the last value.

YAML is read with libyaml's C parser when PyYAML was built with it (about ten times faster than
the pure-Python one); the constructors, and so the result, are the same either way.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: CloudFormation intrinsic functions that have a YAML short form ``!Name``.
SHORT_FORMS = frozenset(
    {
        "And",
        "Base64",
        "Cidr",
        "Equals",
        "FindInMap",
        "GetAZs",
        "GetAtt",
        "If",
        "ImportValue",
        "Join",
        "Length",
        "Not",
        "Or",
        "Select",
        "Split",
        "Sub",
        "ToJsonString",
        "Transform",
    }
)


#: What must not reach a terminal or a one-line message raw: C0 and C1 controls (line breaks and
#: escape sequences among them), line and paragraph separators, lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` on one line, with every control character written as an escape (``\\n``)."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class InputError(Exception):
    """Input that cannot be judged: missing path, unreadable or malformed file, limit exceeded.

    Path and problem are kept printable on one line (a file name or a logical id may hold a line
    break or a terminal escape sequence): the contract is one stderr line per bad input.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = printable(str(path))
        self.problem = printable(problem)
        super().__init__(f"{self.path}: {self.problem}")


@dataclass(frozen=True)
class Limits:
    """What one input file may be; each can be overridden on the command line."""

    #: Largest file read, in bytes (``--max-file-size``). CloudFormation itself takes 1 MB.
    max_bytes: int = 64 * 1024 * 1024
    #: Deepest nesting of mappings and lists (``--max-depth``).
    max_depth: int = 100
    #: Most YAML nodes once aliases are expanded (``--max-yaml-nodes``).
    max_yaml_nodes: int = 2_000_000


DEFAULT_LIMITS = Limits()
#: The limits of the run in progress (set by :func:`governance.template.load_inputs`), so every
#: file read on its behalf - cloud assembly members included - is held to the same limits.
CURRENT_LIMITS: ContextVar[Limits] = ContextVar("govern_limits", default=DEFAULT_LIMITS)


# --- files -----------------------------------------------------------------------------------


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The bytes of ``path`` if it is a regular file within ``limits.max_bytes``.

    Opened without blocking (a FIFO would otherwise wait for a writer) and checked on the
    descriptor itself, so a file swapped after a check is still refused.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(path, f"not a regular file ({_kind(info.st_mode)}); not read")
        if info.st_size > limits.max_bytes:
            raise InputError(path, _too_big(info.st_size, limits))
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limits.max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limits.max_bytes:
                raise InputError(path, _too_big(total, limits, grew=True))
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _too_big(size: int, limits: Limits, grew: bool = False) -> str:
    what = "grew past" if grew else f"is {size:,} bytes, more than"
    return f"file {what} the limit of {limits.max_bytes:,} bytes (--max-file-size)"


# --- JSON ------------------------------------------------------------------------------------


class _Refused(ValueError):
    """A value the reader refuses, raised from inside a decoder."""


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {key!r} in a mapping (cfn-lint E0000)")
            seen.add(key)
    return out


_DECODER = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_unique_pairs)


class _JsonSyntax(InputError):
    """Not JSON syntax: the text may still be flow-style YAML."""


def _parse_json(text: str, path: str | Path) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _JsonSyntax(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except _Refused as exc:
        raise InputError(path, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise InputError(path, "nested too deeply to read (--max-depth)") from None
    except ValueError as exc:  # e.g. an integer of more than sys.get_int_max_str_digits()
        raise InputError(path, f"invalid JSON: {_number_problem(exc)}") from None


# --- YAML with CloudFormation short-form tags ------------------------------------------------

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Located(Exception):
    def __init__(self, node: yaml.Node, problem: str) -> None:
        self.node = node
        self.problem = problem


class CfnLoader(_Base):  # type: ignore[misc,valid-type]
    """Safe loader that turns ``!Ref x`` into ``{"Ref": "x"}`` and friends, and refuses duplicate
    keys in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            _no_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (_Located, yaml.YAMLError):
            raise
        except (ValueError, KeyError, TypeError, OverflowError, AttributeError) as exc:
            tag = f" tagged {node.tag}" if not node.tag.startswith("tag:yaml.org") else ""
            kind = node.tag.rsplit(":", 1)[-1]
            value = node.value if isinstance(node, yaml.ScalarNode) else ""
            shown = f" {value[:40]!r}" if value else ""
            if "integer string conversion" in str(exc):
                raise _Located(node, _number_problem(exc)) from None
            raise _Located(
                node, f"value{shown}{tag} is not a valid {kind} ({_first_line(exc)})"
            ) from None


def _tag_name(suffix: str) -> str:
    """The long-form key of a short-form tag: ``!Ref`` -> ``Ref``, ``!Sub`` -> ``Fn::Sub``."""
    if suffix in ("Ref", "Condition"):
        return suffix
    if suffix in SHORT_FORMS:
        return f"Fn::{suffix}"
    return f"!{suffix}"  # not CloudFormation (e.g. !Rain::Module): kept as written


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _tag_name(suffix)
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor(
    "!", lambda loader, suffix, node: _construct_tag(loader, suffix, node)
)
# YAML 1.1 reads timestamps as dates; CloudFormation does not.
CfnLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _check_graph(root: yaml.Node, path: str | Path, limits: Limits) -> None:
    """Refuse deep nesting, alias expansion past the node limit and recursive aliases; one pass
    over the distinct nodes (an alias is counted at its full expanded size)."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    # iterative post-order walk; each distinct node is expanded once
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0) if children else 0
            if isinstance(node, yaml.CollectionNode) and not children:
                depths[key] = 1
            if depths[key] > limits.max_depth:
                raise InputError(path, _too_deep(node, limits))
            if sizes[key] > limits.max_yaml_nodes:
                raise InputError(
                    path,
                    f"YAML aliases expand to more than {limits.max_yaml_nodes:,} nodes"
                    f" at line {node.start_mark.line + 1} (--max-yaml-nodes)",
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise InputError(path, f"recursive YAML alias at line {node.start_mark.line + 1}")
        on_path.add(key)
        stack.append((node, True))
        if len(on_path) > limits.max_depth:
            raise InputError(path, _too_deep(node, limits))
        for child in _children(node):
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _no_duplicate_keys(node: yaml.MappingNode) -> None:
    keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
    if len(set(keys)) == len(keys):
        return
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        key = key_node.value
        if key in seen:
            raise _Located(
                key_node,
                f"duplicate key {key[:80]!r} (cfn-lint E0000; CloudFormation's behaviour is"
                " undefined)",
            )
        seen.add(key)


def _too_deep(node: yaml.Node, limits: Limits) -> str:
    return (
        f"nested more than {limits.max_depth} levels deep at line {node.start_mark.line + 1}"
        " (--max-depth)"
    )


_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "map", "seq"))
_MERGE = "tag:yaml.org,2002:merge"


class _TooDeep(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _Fallback(Exception):
    """A mapping the fast builder leaves to PyYAML's constructor (merge keys, non-scalar keys)."""


def _build(loader: CfnLoader, node: yaml.Node, depth: int, limits: Limits) -> Any:
    """The value of a node tree without aliases, as ``construct_document`` would build it.

    PyYAML's constructor spends most of a load in generic machinery (a generator per mapping,
    a cache of constructed objects for aliases, a resolver call per scalar); a tree without
    anchors needs none of it. Plain strings, mappings and sequences are built here; every other
    scalar (numbers, booleans, null, bad values) and any mapping with a merge key or a
    non-scalar key goes through the loader, so values and errors are the loader's. ``depth`` is
    the nesting the value gets, counted as :func:`_check_depth` counts it (a short form's
    wrapper mapping is one level).
    """
    cls = node.__class__
    tag = node.tag
    if cls is yaml.ScalarNode:
        if tag == _STR:
            return node.value
        if tag[:1] == "!":
            _limit(node, depth, limits)
            value = _construct_tag(loader, tag[1:], node)
            if isinstance(next(iter(value.values())), list):
                _limit(node, depth + 1, limits)
            return value
        return loader.construct_object(node)
    _limit(node, depth, limits)
    if tag[:1] == "!":
        _limit(node, depth + 1, limits)
        inner = _build_collection(loader, node, depth + 1, limits)
        return {_tag_name(tag[1:]): inner}
    if (cls is yaml.MappingNode and tag != _MAP) or (cls is yaml.SequenceNode and tag != _SEQ):
        return loader.construct_object(node, deep=True)  # e.g. !!set, !!omap
    return _build_collection(loader, node, depth, limits)


def _build_collection(loader: CfnLoader, node: yaml.Node, depth: int, limits: Limits) -> Any:
    if node.__class__ is yaml.SequenceNode:
        return [_build(loader, child, depth + 1, limits) for child in node.value]
    _no_duplicate_keys(node)
    out: dict[Any, Any] = {}
    try:
        for key_node, value_node in node.value:
            if key_node.__class__ is not yaml.ScalarNode or key_node.tag == _MERGE:
                raise _Fallback
            key = key_node.value if key_node.tag == _STR else loader.construct_object(key_node)
            out[key] = _build(loader, value_node, depth + 1, limits)
    except _Fallback:
        return loader.construct_mapping(node, deep=True)
    return out


def _limit(node: yaml.Node, depth: int, limits: Limits) -> None:
    if depth > limits.max_depth:
        raise _TooDeep(node)


def _parse_yaml(text: str, path: str | Path, limits: Limits) -> Any:
    loader = CfnLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        aliases = "&" in text  # no anchor, no alias: the nodes form a tree as large as the text
        if aliases:
            _check_graph(root, path, limits)
        if aliases:
            return loader.construct_document(root)
        return _build(loader, root, 1, limits)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or _first_line(exc)
        raise InputError(path, f"invalid YAML{where}: {problem}") from None
    except _TooDeep as exc:
        raise InputError(path, _too_deep(exc.node, limits)) from None
    except _Located as exc:
        line = exc.node.start_mark.line + 1
        raise InputError(path, f"invalid YAML at line {line}: {exc.problem}") from None
    except RecursionError:
        raise InputError(path, "nested too deeply to read (--max-depth)") from None
    finally:
        loader.dispose()


# --- both ------------------------------------------------------------------------------------

_SURROGATE_ESCAPE = re.compile(r"\\(?:u[dD][89a-fA-F]|U0000[dD][89a-fA-F])")


def parse_text(text: str, path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Any:
    """JSON or YAML text as Python values, within ``limits``; :class:`InputError` otherwise.

    Text that starts with ``{`` is read as JSON first; if it is not JSON it may still be
    flow-style YAML (``{Resources: {...}}``), which CloudFormation accepts.
    """
    if text.lstrip()[:1] == "{":
        try:
            body = _parse_json(text, path)
        except _JsonSyntax as json_error:
            try:
                body = _parse_yaml(text, path, limits)
            except InputError as yaml_error:
                raise (json_error if str(path).endswith(".json") else yaml_error) from None
            else:
                _check_depth(body, path, limits)
        else:
            _check_depth(body, path, limits)
    else:
        body = _parse_yaml(text, path, limits)
    if _SURROGATE_ESCAPE.search(text):
        _check_strings(body, path)
    return body


def _check_depth(value: Any, path: str | Path, limits: Limits) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise InputError(path, f"nested more than {limits.max_depth} levels deep (--max-depth)")
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return None


def _check_strings(value: Any, path: str | Path) -> None:
    stack = [value]
    while stack:
        node = stack.pop()
        items = (
            [*node.keys(), *node.values()]
            if isinstance(node, dict)
            else node
            if isinstance(node, list)
            else [node]
        )
        for item in items:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    char = item[exc.start]
                    raise InputError(
                        path,
                        f"string with a lone surrogate (\\u{ord(char):04x}), which UTF-8 cannot"
                        " carry",
                    ) from None
            elif isinstance(item, (dict, list)) and item is not node:
                stack.append(item)


def _number_problem(exc: BaseException) -> str:
    if "integer string conversion" in str(exc):
        return f"an integer of more than {sys.get_int_max_str_digits()} digits, Python's limit"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line[:200]


__all__ = [
    "DEFAULT_LIMITS",
    "CfnLoader",
    "InputError",
    "Limits",
    "parse_text",
    "read_regular_file",
]
