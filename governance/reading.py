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

YAML is read by :mod:`governance.reading_yaml`, imported on the first YAML file: libyaml's C
parser when PyYAML was built with it (about ten times faster than the pure-Python one).
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
                body = _yaml().parse_yaml(text, path, limits)
            except InputError as yaml_error:
                raise (json_error if str(path).endswith(".json") else yaml_error) from None
            else:
                _check_depth(body, path, limits)
        else:
            _check_depth(body, path, limits)
    else:
        body = _yaml().parse_yaml(text, path, limits)
    if _SURROGATE_ESCAPE.search(text):
        _check_strings(body, path)
    return body


def _check_depth(value: Any, path: str | Path, limits: Limits) -> None:
    """Refuse JSON values nested deeper than ``limits.max_depth``: one level at a time, the
    containers of each level gathered in a list (no tuple per container)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 1
    while level:
        if depth > limits.max_depth:
            raise InputError(path, f"nested more than {limits.max_depth} levels deep (--max-depth)")
        below: list[Any] = []
        add = below.append
        for node in level:
            for child in node.values() if isinstance(node, dict) else node:
                if isinstance(child, (dict, list)):
                    add(child)
        level = below
        depth += 1


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
    "InputError",
    "Limits",
    "parse_text",
    "read_regular_file",
]


def _yaml():  # noqa: ANN202 - the module governance.reading_yaml
    from governance import reading_yaml

    return reading_yaml
