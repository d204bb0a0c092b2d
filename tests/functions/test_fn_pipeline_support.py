"""The test helpers' own contract: two deliveries signed one after the other never share a second.

A shared second with the same body is a replay, which the handler refuses; a test that means a
redelivery would then fail only when the clock ticked between its two calls.
"""

from __future__ import annotations

import itertools

import pipeline_support
from pipeline_support import signed_event, webhook


def test_consecutive_stamps_differ_when_the_clock_ticks_between_calls(monkeypatch):
    clock = itertools.count(1_714_564_800)
    monkeypatch.setattr(pipeline_support.time, "time", lambda: float(next(clock)))

    stamps = [signed_event(webhook())["headers"]["X-Webhook-Timestamp"] for _ in range(600)]

    assert all(a != b for a, b in itertools.pairwise(stamps))


def test_consecutive_stamps_differ_when_the_clock_stands_still(monkeypatch):
    monkeypatch.setattr(pipeline_support.time, "time", lambda: 1_714_564_800.5)

    stamps = [int(signed_event(webhook())["headers"]["X-Webhook-Timestamp"]) for _ in range(250)]

    assert len(set(stamps)) == 250
    assert all(1_714_564_800 - 250 < s <= 1_714_564_800 for s in stamps)
