"""Benchmark: pricing time of the cost model.

Run: `make bench` (or `.venv/bin/python bench/bench_cost.py [--resources N] [--repeat R]`).

* A generated template of 10,000 resources (priced types that read the template and each other:
  functions with log groups and queue triggers, tables with auto-scaling, buckets with
  lifecycle rules, NAT Gateways, web ACLs; plus free IAM roles and permissions). Target: under
  one second to price.
* The whole platform, before and after, all three environments: the cloud assemblies that
  `make demo` writes to build/ (build/cdk.out.<env> and build/cdk.out.<env>.legacy); reported
  as not measured when they are absent.

Times are the median of ``--repeat`` runs in this process (templates parsed once, outside the
timing, except in the "load + price" rows); the table prints what was measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from governance.template import Template, load_cloud_assembly, load_inputs  # noqa: E402
from reports.cost.catalogue import load_catalogue  # noqa: E402
from reports.cost.estimate import Assembly, estimate  # noqa: E402
from reports.cost.model import Comparison  # noqa: E402
from reports.cost.report import build_report  # noqa: E402
from reports.cost.resources import declared_usage  # noqa: E402
from reports.cost.usage import PLATFORM_USAGE_PATH, load_usage  # noqa: E402

ENVS = ("dev", "staging", "production")


def generate(count: int) -> dict:
    """A template of ``count`` resources, in groups of ten that reference each other."""
    resources: dict[str, dict] = {}
    i = 0
    while len(resources) < count:
        n = f"{i:05d}"
        group = {
            f"Fn{n}": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"process-payment-{n}",
                    "MemorySize": 3008 if i % 2 else 512,
                    "Architectures": ["x86_64" if i % 2 else "arm64"],
                    "LoggingConfig": {"LogGroup": {"Ref": f"Logs{n}"}},
                    "TracingConfig": {"Mode": "Active"},
                    "Role": {"Fn::GetAtt": [f"Role{n}", "Arn"]},
                },
                "Metadata": {"aws:cdk:path": f"Bench/Fn{n}/Resource"},
            },
            f"Logs{n}": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
            f"Role{n}": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
            f"Queue{n}": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": f"payment-queue-{n}"},
            },
            f"Map{n}": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": f"Fn{n}"},
                    "EventSourceArn": {"Fn::GetAtt": [f"Queue{n}", "Arn"]},
                },
            },
            f"Table{n}": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": f"payment-transactions-{n}",
                    "BillingMode": "PAY_PER_REQUEST" if i % 2 else "PROVISIONED",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            },
            f"Bucket{n}": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "Status": "Enabled",
                                "Transitions": [
                                    {"StorageClass": "GLACIER", "TransitionInDays": 30}
                                ],
                                "ExpirationInDays": 400,
                            }
                        ]
                    }
                },
            },
            f"Nat{n}": {"Type": "AWS::EC2::NatGateway"},
            f"Acl{n}": {
                "Type": "AWS::WAFv2::WebACL",
                "Properties": {
                    "Rules": [{"Name": "rate", "Statement": {"RateBasedStatement": {}}}]
                },
            },
            f"Perm{n}": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {"FunctionName": {"Ref": f"Fn{n}"}, "Principal": "sqs.amazonaws.com"},
            },
        }
        for key, value in group.items():
            if len(resources) < count:
                resources[key] = value
        i += 1
    return {"Resources": resources}


def median_time(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--build", default=str(ROOT / "build"), help="where `make demo` wrote the assemblies"
    )
    args = parser.parse_args(argv)

    catalogue, profile = load_catalogue(), load_usage(PLATFORM_USAGE_PATH, declared_usage())
    rows: list[tuple[str, str, str, str]] = []

    body = generate(args.resources)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.template.json"
        path.write_text(json.dumps(body))

        def price_parsed() -> None:
            tpl = Template(name="Bench", path=str(path), body=body)
            estimate(
                [Assembly("production", [tpl])], label="bench", catalogue=catalogue, profile=profile
            )

        def load_and_price() -> None:
            templates, _ = load_inputs([path])
            estimate(
                [Assembly("production", templates)],
                label="bench",
                catalogue=catalogue,
                profile=profile,
            )

        t_price = median_time(price_parsed, args.repeat)
        t_load = median_time(load_and_price, args.repeat)
    n = len(body["Resources"])
    rows.append(
        (
            f"generated template, {n:,} resources: price",
            f"{t_price * 1000:,.0f} ms",
            f"{n / t_price:,.0f}/s",
            f"< 1,000 ms ({t_price / 1.0:.2f}x of it)",
        )
    )
    rows.append(
        (
            f"generated template, {n:,} resources: load + price",
            f"{t_load * 1000:,.0f} ms",
            f"{n / t_load:,.0f}/s",
            "",
        )
    )

    build = Path(args.build)
    dirs = {
        (env, side): build / (f"cdk.out.{env}" + (".legacy" if side == "before" else ""))
        for env in ENVS
        for side in ("before", "after")
    }
    if all((d / "manifest.json").is_file() for d in dirs.values()):
        sides = {
            side: [Assembly(env, load_cloud_assembly(dirs[(env, side)])) for env in ENVS]
            for side in ("before", "after")
        }
        count = sum(len(t.resources) for a in sides["before"] + sides["after"] for t in a.templates)

        def price_platform() -> None:
            before = estimate(sides["before"], label="before", catalogue=catalogue, profile=profile)
            after = estimate(sides["after"], label="after", catalogue=catalogue, profile=profile)
            build_report(
                Comparison(before, after), catalogue=catalogue, profile=profile, has_before=True
            )

        t_platform = median_time(price_platform, args.repeat)
        rows.append(
            (
                f"platform, 3 environments before + after ({count:,} resources): price + report data",
                f"{t_platform * 1000:,.0f} ms",
                f"{count / t_platform:,.0f}/s",
                "",
            )
        )
    else:
        missing = sorted(str(d) for d in dirs.values() if not (d / "manifest.json").is_file())
        rows.append(
            (
                "platform, 3 environments before + after",
                "not measured",
                "",
                f"missing {missing[0]}… (run make demo)",
            )
        )

    header = ("case", f"time (median of {args.repeat})", "resources/s", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    print("Cost model pricing benchmark")
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)))
    return 0 if t_price < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
