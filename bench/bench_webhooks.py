"""Benchmark: the webhook pipeline under load - 20,000 signed webhooks from 8 threads, 10 % repeats.

Run: `.venv/bin/python bench/bench_webhooks.py [--count N] [--threads N] [--max-seconds S]`.
Everything runs on loopback: a moto server in its own process on 127.0.0.1 (DynamoDB with its
stream, SQS, Secrets Manager) and, in this process, the real handlers: process-payment for each
webhook, forward-transactions draining the table's stream (the outbox) while webhooks arrive, and
process-accounting consuming the queue as Lambda's SQS poller would. Each webhook is signed when
it is sent. 10 % of the deliveries repeat an earlier transaction id: four in five of them with
the same body (a provider's redelivery, answered 200 duplicate), one in five with a different
amount (answered 409 conflict). At the end the run checks exactly-once - one item and one queue
message per accepted id, every message equal to the stored item, every item booked once at its
stored amount - and prints accepted, duplicates, conflicts, messages, the handler's p50/p99
latency and the ratios. It is bounded: after `--max-seconds` no delivery starts and the outbox
and the consumer stop; the table then says what was not sent, drained or accounted, and
exactly-once is not judged. A progress line goes to stderr every `--progress-seconds`.
Exit code 1 if exactly-once does not hold or was not judged, or a delivery was answered other
than 200 or 409.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "stacks" / "layer" / "src"), str(ROOT / "tests" / "functions")]

import boto3  # noqa: E402

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
    """(transaction id, amount) per delivery: 90 % new ids, 10 % repeats of an earlier id
    (one in five of them with another amount)."""
    rng = random.Random(seed)
    out: list[tuple[str, int]] = []
    first: list[tuple[str, int]] = []
    for i in range(count):
        if first and rng.random() < 0.10:
            tid, amount = rng.choice(first)
            amount = amount + 1 if rng.random() < 0.2 else amount
        else:
            tid, amount = f"txn_b{i:06d}", 1 + rng.randrange(10_000)
            first.append((tid, amount))
        out.append((tid, amount))
    return out


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _moto_server() -> tuple[subprocess.Popen, str]:
    """A moto server in its own process on a free loopback port (its Python and the handlers'
    then run on different cores instead of sharing one interpreter's lock)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/moto-api/reset-auth", timeout=1):
                break
        except urllib.error.HTTPError:
            break  # answering
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the moto server did not start") from None
            time.sleep(0.1)
    return process, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1800.0,
        help="bound on the whole run: after this many seconds no delivery starts and the outbox "
        "and the accounting consumer stop (the table then says what was not done)",
    )
    parser.add_argument("--progress-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)

    server, url = _moto_server()
    try:
        return _run(args, url)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _run(args: argparse.Namespace, url: str) -> int:
    _environment(url)
    from pipeline_support import (
        SECRETS,
        StreamReader,
        drain_outbox,
        inserts,
        signed_event,
        sqs_records,
    )

    stream_arn, queue_url = _resources(url, SECRETS)
    payment = _load("process_payment")
    forwarder, accounting = _load("forward_transactions"), _load("process_accounting")
    deliveries = _deliveries(args.count, args.seed)
    signed_at: dict[tuple[str, int], set[int]] = {}  # the seconds each body was signed at
    started = time.perf_counter()
    deadline = started + args.max_seconds
    latencies: list[float] = []
    outcomes: Counter = Counter()
    counts: Counter = Counter()  # stream records forwarded, accounting batches failed
    received: dict[str, str] = {}  # SQS message id -> body, every message the consumer saw
    lock = threading.Lock()
    phase = ["sending webhooks"]

    def deliver(item: tuple[int, tuple[str, int]]) -> None:
        _, (tid, amount) = item
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
        # Signed when sent, as a provider signs each attempt; a repeat of a body takes a second
        # that body was not signed at (the same body at the same second is a replay, 401).
        with lock:
            seconds = signed_at.setdefault((tid, amount), set())
            stamp = int(time.time())
            while stamp in seconds:
                stamp -= 1
            seconds.add(stamp)
        event = signed_event(body, timestamp=stamp)
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
    sqs = boto3.client("sqs", endpoint_url=url, region_name=REGION)
    sending, forwarding = threading.Event(), threading.Event()
    sending.set()
    forwarding.set()
    finished = threading.Event()

    def poll(step: Callable[[], int], keep_going: Callable[[], bool]) -> None:
        """Call ``step`` while ``keep_going()`` and the time bound allow; idle briefly when it
        found nothing to do."""
        while keep_going() and time.perf_counter() < deadline:
            if not step():
                time.sleep(0.05)

    def drain_once() -> int:
        records = inserts(reader.read(max_records=1000))
        drain_outbox(forwarder, records)
        with lock:
            counts["forwarded"] += len(records)
        return len(records)

    def consume_once() -> int:  # the queue's event source mapping: process-accounting
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages")
        if not batch:
            return 0
        result = accounting.handler({"Records": sqs_records(batch)}, None)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        done = [m for m in batch if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        with lock:
            received.update((m["MessageId"], m["Body"]) for m in batch)
            counts["accounting failures"] += len(failed)
        return len(batch)

    def report_progress() -> None:
        while not finished.wait(args.progress_seconds):
            with lock:
                sent = sum(v for k, v in outcomes.items() if not k.startswith("not sent"))
                line = (
                    f"[{time.perf_counter() - started:7.1f} s] {phase[0]}: {sent}/{args.count}"
                    f" webhooks, {outcomes['accepted']} accepted,"
                    f" {counts['forwarded']} forwarded, {len(received)} accounted"
                )
            _progress(line)

    threading.Thread(target=report_progress, daemon=True).start()
    # The stream's event source mapping while webhooks arrive, and the queue's: consumed as it
    # fills, as Lambda polls (moto 5's SQS looks at every message in the queue on each
    # SendMessage and ReceiveMessage, so a queue left to grow to 18,000 messages makes each call
    # cost seconds).
    drainer = threading.Thread(target=poll, args=(drain_once, sending.is_set), daemon=True)
    drainer.start()
    accountant = threading.Thread(target=poll, args=(consume_once, forwarding.is_set), daemon=True)
    accountant.start()
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(deliver, enumerate(deliveries)))
    webhooks_s = time.perf_counter() - started
    sending.clear()
    drainer.join()
    phase[0] = "draining the outbox"
    poll(drain_once, lambda: counts["forwarded"] < outcomes["accepted"])
    drained = counts["forwarded"] >= outcomes["accepted"]
    forwarding.clear()
    accountant.join()
    phase[0] = "accounting the queue"
    poll(consume_once, lambda: len(received) < outcomes["accepted"])
    total_s = time.perf_counter() - started

    phase[0] = "reading the queue and the table"
    read_started = time.perf_counter()
    # Anything still queued (a second message for an id would be) is read too.
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=43_200
    ).get("Messages"):
        received.update((m["MessageId"], m["Body"]) for m in batch)
    left = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    in_flight = int(left["ApproximateNumberOfMessagesNotVisible"])
    dynamodb = boto3.client("dynamodb", endpoint_url=url, region_name=REGION)
    items: dict[str, str] = {}
    booked: dict[str, str] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE, ConsistentRead=True):
        for item in page["Items"]:
            tid = item["transaction_id"]["S"]
            items[tid] = "twice" if tid in items else item["amount"]["N"]
            if item.get("accounting_status", {}).get("S") == "accounted":
                booked[tid] = item["accounted_amount"]["N"]
    read_s = time.perf_counter() - read_started
    finished.set()

    bodies = [json.loads(body) for body in received.values()]
    per_id = Counter(b["transaction_id"] for b in bodies)
    wrong = [b for b in bodies if b["amount"] != items.get(b["transaction_id"])]
    misbooked = {t for t in items if booked.get(t) != items[t]}
    accepted = outcomes["accepted"]
    consumed = drained and len(received) >= accepted
    exactly_once = (
        consumed
        and len(items) == accepted
        and "twice" not in items.values()
        and set(per_id) == set(items)
        and set(per_id.values()) <= {1}
        and not wrong
        and not misbooked
    )
    sent = sum(v for k, v in outcomes.items() if not k.startswith("not sent"))
    verdict = "yes" if exactly_once else "NO"
    # Every delivery is validly signed and well formed: any other answer is a failed run.
    unexpected = sum(v for k, v in outcomes.items() if k.startswith("status"))
    if sent < args.count:
        exactly_once = False
        verdict = f"not judged: {args.count - sent} webhooks not sent (time bound)"
    elif not drained:
        verdict = f"not judged: {accepted - counts['forwarded']} records not drained (time bound)"
    elif not consumed:
        verdict = f"not judged: {accepted - len(received)} messages not accounted (time bound)"
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
        ("stream records forwarded (INSERT)", counts["forwarded"]),
        ("queue messages", len(received)),
        ("messages / accepted", f"{len(received) / accepted:.4f}" if accepted else "-"),
        ("messages with a non-stored amount", len(wrong)),
        ("items booked by accounting", len(booked)),
        ("items not booked, or booked at another amount", len(misbooked)),
        ("accounting records failed (retried)", counts["accounting failures"]),
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
        ("webhooks / s (wall)", f"{sent / webhooks_s:.0f}"),
        ("wall time, webhooks sent", f"{webhooks_s:.1f} s"),
        ("wall time, webhooks + outbox + accounting done", f"{total_s:.1f} s"),
        ("wall time, reading queue and table back", f"{read_s:.1f} s"),
        ("exactly once", verdict),
    ]
    if in_flight:
        rows.insert(-1, ("messages still queued at the end (read back above)", in_flight))
    rows.append(("deliveries answered other than 200/409", unexpected))
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"| {'-' * width} | ----- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    return 0 if exactly_once and not unexpected else 1


if __name__ == "__main__":
    sys.exit(main())
