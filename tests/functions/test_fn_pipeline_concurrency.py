"""Exactly once, end to end, under concurrency: the property the issue found broken.

Many threads deliver the same transaction ids at once, with the same and with different bodies,
while the outbox drains the table's stream and accounting consumes (and re-consumes) the queue.
Whatever the interleaving: exactly one item and one message per id, the message is the stored
content, and the accounted amount equals the stored one. A Hypothesis test then tries random
sequences of deliveries, stream redeliveries and queue redeliveries against the same invariant.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_support import (
    StreamReader,
    call,
    drain_outbox,
    inserts,
    signed_event,
    sqs_records,
    webhook,
)

THREADS = 16
IDS = 25
DELIVERIES_PER_ID = 8  # half the original body, half a different amount


def _payload(tid: str, variant: int) -> dict:
    # variant 0 is "the" body; others differ in amount (what a confused provider might send)
    return webhook(transaction_id=tid, amount=10 + variant, metadata={"order": tid})


def _by_id(items: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        out[item["transaction_id"]["S"]].append(item)
    return out


def test_concurrent_deliveries_store_queue_and_book_exactly_once(
    process_payment, forward_transactions, process_accounting, aws
):
    ids = [f"txn_c{i:03d}" for i in range(IDS)]
    now = int(time.time())
    deliveries = []
    for tid in ids:
        for n in range(DELIVERIES_PER_ID):
            variant = 0 if n % 2 == 0 else n  # 0, 1, 0, 3, 0, 5, 0, 7
            # each delivery signed at its own second, as a provider re-signs each attempt
            deliveries.append(
                (tid, variant, signed_event(_payload(tid, variant), timestamp=now - n))
            )
    random.Random(16).shuffle(deliveries)

    reader = StreamReader(aws.url, aws.stream_arn)
    done = threading.Event()
    forwarded: list[int] = []

    def outbox() -> None:  # drains the stream while the webhooks arrive, as Lambda would
        while not done.is_set():
            forwarded.append(drain_outbox(forward_transactions, inserts(reader.read())))
            time.sleep(0.01)

    drainer = threading.Thread(target=outbox)
    drainer.start()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda d: (d[0], d[1], call(process_payment, d[2])), deliveries))
    done.set()
    drainer.join()
    drain_outbox(forward_transactions, inserts(reader.read()))

    # one item per id, and the responses agree with it
    items = _by_id(aws.items())
    assert sorted(items) == ids
    assert all(len(v) == 1 for v in items.values())
    outcome: dict[str, Counter] = defaultdict(Counter)
    for tid, variant, (status, body) in results:
        stored_variant = int(items[tid][0]["amount"]["N"]) - 10
        if status == 200:
            assert variant == stored_variant
            outcome[tid]["accepted" if not body["duplicate"] else "duplicate"] += 1
        else:
            assert status == 409, body
            assert variant != stored_variant
            assert body["transaction_id"] == tid
            outcome[tid]["conflict"] += 1
    assert all(c["accepted"] == 1 for c in outcome.values())

    # one message per id, carrying the stored content
    messages = aws.drain(aws.queue_url)
    bodies = [json.loads(m["Body"]) for m in messages]
    assert Counter(b["transaction_id"] for b in bodies) == {tid: 1 for tid in ids}
    for b in bodies:
        assert b["amount"] == items[b["transaction_id"]][0]["amount"]["N"]

    # accounting, with every message delivered twice and concurrently: booked once, stored amount
    records = sqs_records(messages)
    batches = [records[i : i + 10] for i in range(0, len(records), 10)] * 2
    random.Random(7).shuffle(batches)
    with ThreadPoolExecutor(8) as pool:
        reports = list(
            pool.map(lambda b: process_accounting.handler({"Records": b}, None), batches)
        )
    assert all(r == {"batchItemFailures": []} for r in reports)
    for tid, [item] in _by_id(aws.items()).items():
        assert item["accounted_amount"] == item["amount"], tid
        assert item["queued"] == {"BOOL": True}


# -- property: any sequence of deliveries and redeliveries ---------------------------------------

_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(0, 2), st.integers(0, 2)),  # id, body variant
        st.tuples(st.just("stream"), st.booleans(), st.just(0)),  # drain (True: and redeliver)
        st.tuples(st.just("account"), st.booleans(), st.just(0)),  # consume (True: twice)
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(_OPS)
def test_any_sequence_keeps_one_item_one_message_one_booking(
    process_payment, forward_transactions, process_accounting, aws, ops
):
    run = uuid.uuid4().hex[:8]  # the moto state is shared across examples: ids of their own
    reader = StreamReader(aws.url, aws.stream_arn)
    reader.read()  # start after what earlier examples wrote
    seen_records: list[dict] = []
    pending: list[dict] = []
    sent: Counter = Counter()
    first: dict[str, int] = {}
    now = int(time.time())
    for step, (op, a, b) in enumerate(ops):
        if op == "deliver":
            tid = f"p{run}-{a}"
            status, body = call(
                process_payment, signed_event(_payload(tid, b), timestamp=now - step)
            )
            expected = first.setdefault(tid, b)
            assert status == (200 if b == expected else 409), body
        elif op == "stream":
            seen_records += inserts(reader.read())
            drain_outbox(forward_transactions, seen_records if a else seen_records[-10:])
        else:
            batch = aws.drain(aws.queue_url)
            for m in batch:
                sent[json.loads(m["Body"])["transaction_id"]] += 1
            pending += sqs_records(batch)
            for _ in range(2 if a else 1):
                assert process_accounting.handler({"Records": pending}, None) == {
                    "batchItemFailures": []
                }
    seen_records += inserts(reader.read())
    drain_outbox(forward_transactions, seen_records)
    for m in aws.drain(aws.queue_url):
        sent[json.loads(m["Body"])["transaction_id"]] += 1
        pending += sqs_records([m])
    process_accounting.handler({"Records": pending}, None)

    items = {k: v for k, v in _by_id(aws.items()).items() if k.startswith(f"p{run}-")}
    assert set(items) == set(first)
    assert all(len(v) == 1 for v in items.values())
    assert sent == {tid: 1 for tid in first}
    for tid, [item] in items.items():
        assert item["amount"]["N"] == str(10 + first[tid])
        assert item["accounted_amount"] == item["amount"]
