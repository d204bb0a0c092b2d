"""Benchmark: the webhook pipeline under load - 20,000 signed webhooks from 8 threads, 10 % repeats.

Run: `.venv/bin/python bench/bench_webhooks.py [--count N] [--threads N] [--max-seconds S]`.
Everything runs on loopback: a moto server on 127.0.0.1 (DynamoDB with its stream, SQS,
Secrets Manager), the real handlers (process-payment, forward-transactions) called in process.
10 % of the deliveries repeat an earlier transaction id: four in five of them with the same body
(a provider's redelivery, answered 200 duplicate), one in five with a different amount (answered
409 conflict). The outbox drains the table's stream while the webhooks arrive. At the end the
run checks exactly-once - one item and one queue message per accepted id, every message equal
to the stored item - and prints accepted, duplicates, conflicts, messages, the handler's p50/p99
latency and the ratios. It is bounded: no new delivery starts after `--max-seconds`, and the
table says how many were sent. Exit code 1 if exactly-once does not hold.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "stacks" / "layer" / "src"), str(ROOT / "tests" / "functions")]

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

REGION = "us-east-1"
TABLE, REPLAYS, QUEUE = (
    "payment-transactions",
    "payment-webhook-replays",
    "payment-processing-queue",
)


def _load(name: str) -> ModuleType:
    path = ROOT / "stacks" / "payments" / "functions" / name / "index.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _environment(url: str) -> None:
    for var in [v for v in os.environ if v.startswith("AWS_")]:
        del os.environ[var]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "LOG_LEVEL": "ERROR",
        }
    )


def _resources(url: str, secrets: dict[str, bytes]) -> tuple[str, str]:
    from pipeline_support import create_pipeline_tables, create_signing_secrets

    kwargs = {"endpoint_url": url, "region_name": REGION}
    dynamodb = boto3.client("dynamodb", **kwargs)
    stream_arn = create_pipeline_tables(dynamodb, TABLE, REPLAYS)
    names = create_signing_secrets(boto3.client("secretsmanager", **kwargs), secrets, "bench")
    sqs = boto3.client("sqs", **kwargs)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName=f"{QUEUE}-dlq")["QueueUrl"]
    os.environ.update(
        {
            "TABLE_NAME": TABLE,
            "REPLAY_TABLE_NAME": REPLAYS,
            "WEBHOOK_PROVIDERS": json.dumps(names),
            "SIGNATURE_TOLERANCE_S": "300",
            "SECRET_CACHE_S": "300",
            "MAX_BODY_BYTES": "65536",
            "MAX_DEPTH": "16",
            "MAX_STRING_CHARS": "4096",
            "MAX_NUMBER_CHARS": "40",
            "QUEUE_URL": queue_url,
            "DEAD_LETTER_QUEUE_URL": dlq_url,
            "MARKER_ATTEMPTS": "5",
            "MARKER_BACKOFF_MS": "25",
        }
    )
    return stream_arn, queue_url


def _deliveries(count: int, seed: int) -> list[tuple[str, int]]:
    """(transaction id, amount) per delivery: 90 % new ids, 10 % repeats (1 in 5 different)."""
    rng = random.Random(seed)
    out: list[tuple[str, int]] = []
    first: list[tuple[str, int]] = []
    for i in range(count):
        if first and rng.random() < 0.10:
            tid, amount = rng.choice(first)
            out.append((tid, amount + 1 if rng.random() < 0.2 else amount))
        else:
            tid, amount = f"txn_b{i:06d}", 1 + rng.randrange(10_000)
            first.append((tid, amount))
            out.append((tid, amount))
    return out


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _environment(url)
    from pipeline_support import SECRETS, StreamReader, drain_outbox, inserts, signed_event

    stream_arn, queue_url = _resources(url, SECRETS)
    payment, forwarder = _load("process_payment"), _load("forward_transactions")
    deliveries = _deliveries(args.count, args.seed)
    now = int(time.time())
    started = time.perf_counter()
    deadline = started + args.max_seconds
    latencies: list[float] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def deliver(item: tuple[int, tuple[str, int]]) -> None:
        index, (tid, amount) = item
        if time.perf_counter() > deadline:
            with lock:
                outcomes["not sent (time bound)"] += 1
            return
        body = {
            "transaction_id": tid,
            "provider": "stripe",
            "amount": amount,
            "currency": "EUR",
            "status": "succeeded",
            "timestamp": "2024-05-01T12:00:00Z",
        }
        event = signed_event(body, timestamp=now - index % 250)  # each delivery signed anew
        t0 = time.perf_counter()
        response = payment.handler(event, None)
        elapsed = time.perf_counter() - t0
        status = response["statusCode"]
        kind = {409: "conflicts"}.get(status, f"status {status}")
        if status == 200:
            kind = "duplicates" if json.loads(response["body"])["duplicate"] else "accepted"
        with lock:
            latencies.append(elapsed)
            outcomes[kind] += 1

    reader = StreamReader(url, stream_arn)
    done = threading.Event()

    def outbox() -> None:
        while not done.is_set():
            drain_outbox(forwarder, inserts(reader.read()))
            time.sleep(0.05)

    drainer = threading.Thread(target=outbox, daemon=True)
    drainer.start()
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(deliver, enumerate(deliveries)))
    webhooks_s = time.perf_counter() - started
    done.set()
    drainer.join()
    drain_outbox(forwarder, inserts(reader.read()))
    total_s = time.perf_counter() - started

    sqs = boto3.client("sqs", endpoint_url=url, region_name=REGION)
    messages: list[dict] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )
    dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
    items: dict[str, str] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE, ConsistentRead=True):
        for item in page["Items"]:
            tid = item["transaction_id"]["S"]
            items[tid] = "twice" if tid in items else item["amount"]["N"]
    server.stop()

    per_id = Counter(json.loads(m["Body"])["transaction_id"] for m in messages)
    wrong = [
        m
        for m in messages
        if json.loads(m["Body"])["amount"] != items.get(json.loads(m["Body"])["transaction_id"])
    ]
    accepted = outcomes["accepted"]
    exactly_once = (
        len(items) == accepted
        and "twice" not in items.values()
        and set(per_id) == set(items)
        and set(per_id.values()) <= {1}
        and not wrong
    )
    sent = sum(v for k, v in outcomes.items() if not k.startswith("not sent"))
    rows = [
        ("webhooks sent", f"{sent} of {args.count} ({args.threads} threads)"),
        ("accepted (200, new)", accepted),
        ("duplicates (200, same body)", outcomes["duplicates"]),
        ("conflicts (409, other body)", outcomes["conflicts"]),
        (
            "other statuses",
            {k: v for k, v in outcomes.items() if k.startswith(("status", "not"))} or "none",
        ),
        ("items stored", len(items)),
        ("queue messages", len(messages)),
        ("messages / accepted", f"{len(messages) / accepted:.4f}" if accepted else "-"),
        ("messages with a non-stored amount", len(wrong)),
        (
            "repeats / sent",
            f"{(outcomes['duplicates'] + outcomes['conflicts']) / sent:.4f}" if sent else "-",
        ),
        (
            "handler latency p50",
            f"{1000 * statistics.median(latencies):.2f} ms" if latencies else "-",
        ),
        (
            "handler latency p99",
            f"{1000 * _percentile(latencies, 0.99):.2f} ms" if latencies else "-",
        ),
        ("webhooks / s (wall, moto in process)", f"{sent / webhooks_s:.0f}"),
        ("wall time, webhooks + outbox drained", f"{total_s:.1f} s"),
        ("exactly once", "yes" if exactly_once else "NO"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"| {'-' * width} | ----- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    return 0 if exactly_once else 1


if __name__ == "__main__":
    sys.exit(main())
