"""``govern check --format json``: the chunked orjson writer writes the document orjson would.

The writer encodes findings ``CHUNK`` at a time and never holds the whole document; these tests
hold its bytes to ``orjson.dumps(to_json(...), option=OPT_INDENT_2)`` for every chunk size that
matters (one, a divisor, more than the findings), on both kinds of output (a UTF-8 file's buffer,
a text stream), and check that a value orjson refuses still gives the same document.
"""

from __future__ import annotations

import io
import json

import orjson
import pytest
from helpers import template

from governance import formats
from governance.engine import evaluate
from governance.policy import Policy
from governance.reading import InputError

RESOURCES = {
    f"Bucket{i}\u00e9\u2028": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "x\r=1+1"}}
    for i in range(5)
}


def _result():  # noqa: ANN202 - an engine Result with findings
    result = evaluate([template(RESOURCES)], Policy(environment="dev", suffix="dev"))
    assert len(result.findings) > 10
    return result


def _without_clock(data: bytes) -> bytes:
    stamp = json.loads(data)["generated_at"]
    return data.replace(stamp.encode(), b"")


@pytest.mark.parametrize("chunk", [1, 3, 10_000])
@pytest.mark.parametrize("stream", ["utf-8 file", "text stream"])
def test_chunked_writer_writes_what_orjson_writes_whole(monkeypatch, chunk, stream) -> None:
    monkeypatch.setattr(formats, "LARGE_OUTPUT", 0)
    monkeypatch.setattr(formats, "CHUNK", chunk)
    result = _result()
    errors = [InputError("bad\n.json", "not a CloudFormation template")]
    if stream == "utf-8 file":
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding="utf-8")
        formats.write_json(result, errors, out)
        out.flush()
        got = raw.getvalue()
    else:
        text = io.StringIO()
        formats.write_json(result, errors, text)
        got = text.getvalue().encode()
    whole = orjson.dumps(formats.to_json(result, errors), option=orjson.OPT_INDENT_2) + b"\n"
    assert _without_clock(got) == _without_clock(whole)


def test_a_value_orjson_refuses_is_written_by_the_standard_encoder(monkeypatch) -> None:
    monkeypatch.setattr(formats, "LARGE_OUTPUT", 0)
    monkeypatch.setattr(formats, "CHUNK", 4)
    result = _result()
    result.findings[5].exception = {"kind": "test", "number": 10**30}  # beyond 64 bits
    out = io.StringIO()
    formats.write_json(result, [], out)
    doc = json.loads(out.getvalue())
    want = formats.to_json(result, [])
    doc.pop("generated_at"), want.pop("generated_at")
    assert doc == json.loads(json.dumps(want))
    assert doc["findings"][5]["exception"]["number"] == 10**30


def test_no_findings_is_an_empty_list(monkeypatch) -> None:
    monkeypatch.setattr(formats, "LARGE_OUTPUT", 0)
    result = evaluate([template({})], Policy(environment="dev", suffix="dev"))
    out = io.StringIO()
    formats.write_json(result, [], out)
    assert '\n  "findings": [],\n' in out.getvalue()
    assert json.loads(out.getvalue())["findings"] == []
