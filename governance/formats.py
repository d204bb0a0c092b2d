"""Output formats for ``govern check``: readable text and a documented JSON document."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from governance import __version__
from governance.engine import Result
from governance.model import Severity
from governance.reading import printable
from governance.template import InputError

JSON_SCHEMA_VERSION = "1"


def summary(result: Result) -> dict[str, Any]:
    active = [f for f in result.findings if f.status != "acknowledged"]
    counts = Counter(f.severity for f in active)
    return {
        "templates": len(result.templates),
        "resources": sum(len(t.resources) for t in result.templates),
        "rules": len(result.rules),
        "error": counts.get(Severity.ERROR, 0),
        "warning": counts.get(Severity.WARNING, 0),
        "info": counts.get(Severity.INFO, 0),
        "acknowledged": len(result.findings) - len(active),
        "undecidable": sum(1 for f in active if f.undecidable),
    }


def to_json(result: Result, errors: list[InputError], findings: bool = True) -> dict[str, Any]:
    """The documented JSON document of a run; ``findings=False`` leaves the findings' list
    empty, for a writer that encodes them itself."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "govern", "version": __version__},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "summary": summary(result),
        "templates": [
            {
                "name": t.name,
                "path": t.path,
                "sha256": t.sha256,
                "environment": t.environment,
                "resources": len(t.resources),
            }
            for t in result.templates
        ],
        "findings": [f.to_dict() for f in result.findings] if findings else [],
        "input_errors": [{"path": e.path, "problem": e.problem} for e in errors],
    }


def write_json(result: Result, errors: list[InputError], out=None) -> None:
    """The document, indented by two spaces, written as it is encoded.

    ``json.dump(..., indent=2)`` runs the standard library's pure-Python encoder, which took most
    of the time of a large run (80 % with 52,500 findings). orjson, when installed, writes the
    same document in a fraction of the time, :data:`CHUNK` findings at a time so that neither the
    findings' dicts nor the output are ever all in memory (on 27,000 findings that halves the
    peak of the output stage; first-touch page faults were a fifth of a large run's CPU time).
    Without orjson, or for a value it refuses (such as an integer beyond 64 bits), the C encoder
    writes one finding a line.
    """
    out = out or sys.stdout
    orjson = _orjson() if len(result.findings) >= LARGE_OUTPUT else None
    doc = to_json(result, errors, findings=orjson is None)
    if orjson is not None:
        _write_orjson(orjson, doc, result, out)
        return
    out.write("{\n")
    last = len(doc) - 1
    for i, (key, value) in enumerate(doc.items()):
        out.write(f"  {json.dumps(key)}: ")
        if key == "findings" and value:
            out.write("[\n    ")
            out.write(",\n    ".join(map(_compact, value)))
            out.write("\n  ]")
        else:
            out.write(json.dumps(value, indent=2).replace("\n", "\n  "))
        out.write(",\n" if i < last else "\n")
    out.write("}\n")


#: Encodings whose bytes are orjson's own.
_UTF8 = ("utf-8", "utf8")
#: From how many findings orjson (when installed) is worth its import (about 10 ms).
LARGE_OUTPUT = 2000
#: How many findings are turned into dicts and encoded at once.
CHUNK = 1000


def _write_orjson(orjson: Any, doc: dict[str, Any], result: Result, out: Any) -> None:
    """``doc`` as ``orjson.dumps(doc, option=OPT_INDENT_2)`` writes it, with ``findings``
    encoded chunk by chunk from ``result`` (``doc`` holds none of them)."""
    buffer = getattr(out, "buffer", None)  # a UTF-8 text file takes orjson's bytes as is
    if buffer is not None and str(getattr(out, "encoding", "")).lower() in _UTF8:
        out.flush()
        write = buffer.write
    else:

        def write(data: bytes) -> None:
            out.write(data.decode())

    def nested(value: Any, indent: bytes) -> bytes:
        """``value`` encoded as it reads at ``indent`` inside the document."""
        try:
            data = orjson.dumps(value, option=orjson.OPT_INDENT_2)
        except (TypeError, orjson.JSONEncodeError):
            data = json.dumps(value, indent=2).encode()
        return data.replace(b"\n", b"\n" + indent)

    write(b"{\n")
    last = len(doc) - 1
    for i, (key, value) in enumerate(doc.items()):
        write(b"  " + json.dumps(key).encode() + b": ")
        if key != "findings":
            write(nested(value, b"  "))
        elif not result.findings:
            write(b"[]")
        else:
            write(b"[\n")
            findings = result.findings
            for start in range(0, len(findings), CHUNK):
                chunk = [f.to_dict() for f in findings[start : start + CHUNK]]
                # "[\n    {...},\n    {...}\n  ]" once nested: keep what is between the brackets
                body = nested(chunk, b"  ")[len(b"[\n    ") : -len(b"\n  ]")]
                write((b",\n    " if start else b"    ") + body)
            write(b"\n  ]")
        write(b",\n" if i < last else b"\n")
    write(b"}\n")


def _orjson():  # noqa: ANN202 - the optional module, or None
    try:
        import orjson
    except ImportError:  # optional: the C encoder below is the fallback
        return None
    return orjson


_compact = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode


_MARK = {Severity.ERROR: "ERROR", Severity.WARNING: "WARN ", Severity.INFO: "INFO "}


def write_text(result: Result, errors: list[InputError], out=None) -> None:
    """Findings grouped by stack, then by resource, most severe first; a summary line last."""
    out = out or sys.stdout
    by_stack: dict[str, dict[str, list]] = {}
    for f in sorted(result.findings, key=lambda f: (-f.severity, f.rule_id)):
        by_stack.setdefault(f.stack, {}).setdefault(f.logical_id, []).append(f)
    p = printable  # names and messages come from the templates: no raw control characters
    for stack, resources in sorted(by_stack.items()):
        out.write(f"\n{p(stack)}\n")
        for logical_id, findings in sorted(resources.items()):
            first = findings[0]
            where = first.construct_path or logical_id
            out.write(f"  {p(logical_id)} ({p(first.resource_type)})  {p(where)}\n")
            for f in findings:
                status = "  [acknowledged: " + (f.reason or "") + "]" if f.acknowledged else ""
                undecided = " (cannot decide)" if f.undecidable else ""
                out.write(
                    f"    {_MARK[f.severity]} {f.rule_id}{undecided} {p(f.message)}"
                    f"  at {p(f.property_path)}{p(status)}\n"
                )
    s = summary(result)
    out.write(
        f"\n{s['error']} error(s), {s['warning']} warning(s), {s['info']} info,"
        f" {s['acknowledged']} acknowledged; {s['resources']} resources in"
        f" {s['templates']} template(s), {s['rules']} rules\n"
    )
