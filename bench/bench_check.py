"""Benchmark: `govern check` throughput and peak memory on a generated 10,000-resource template.

Run: `make bench` (or `.venv/bin/python bench/bench_check.py [--resources N]`). Each measurement
runs in a fresh subprocess so peak RSS belongs to that run alone; the table prints the measured
figures beside the targets of issue 13 (20,000 resources per CPU-second with every finding written
as JSON, under 200 MB peak). Whole-process figures, and checkov and cfn-lint beside govern on real
templates, are in ``bench_corpus.py``. Rates use the
process's CPU time (one core; the engine is single-threaded), which a busy shared machine
disturbs far less than wall time; the wall time is printed too.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

TYPES = [
    (
        "AWS::S3::Bucket",
        lambda i: {
            "BucketName": f"b-{i}-dev",
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": {"Fn::GetAtt": ["Key0", "Arn"]},
                        }
                    }
                ]
            },
        },
    ),
    ("AWS::SQS::Queue", lambda i: {"QueueName": f"q-{i}"}),
    (
        "AWS::DynamoDB::Table",
        lambda i: {
            "TableName": {"Fn::Sub": f"t-{i}-${{AWS::Region}}"},
            "BillingMode": "PAY_PER_REQUEST",
        },
    ),
    (
        "AWS::Lambda::Function",
        lambda i: {
            "FunctionName": f"f-{i}-dev",
            "MemorySize": 3008,
            "Runtime": "python3.11",
            "Role": {"Fn::GetAtt": ["Role0", "Arn"]},
        },
    ),
    ("AWS::Logs::LogGroup", lambda i: {"LogGroupName": f"/app/{i}", "RetentionInDays": 7}),
    (
        "AWS::IAM::Role",
        lambda i: {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        },
    ),
    ("AWS::SNS::Topic", lambda i: {"TopicName": f"t-{i}-dev"}),
    ("AWS::KMS::Key", lambda i: {"EnableKeyRotation": i % 2 == 0}),
    (
        "AWS::EC2::SecurityGroup",
        lambda i: {
            "GroupDescription": "x",
            "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
            ],
        },
    ),
    (
        "AWS::Lambda::Permission",
        lambda i: {
            "Action": "lambda:InvokeFunction",
            "FunctionName": "f",
            "Principal": "s3.amazonaws.com",
        },
    ),
]
TAGS = [
    {"Key": "Environment", "Value": "dev"},
    {"Key": "Owner", "Value": "o"},
    {"Key": "CostCenter", "Value": "c"},
]


def generate(n: int, path: Path) -> None:
    rng = random.Random(42)
    resources = {}
    for i in range(n):
        rtype, props = TYPES[i % len(TYPES)]
        body = {
            "Type": rtype,
            "Properties": props(i),
            "Metadata": {"aws:cdk:path": f"Bench/R{i}/Resource"},
        }
        if rtype not in ("AWS::Lambda::Permission",):
            body["Properties"]["Tags"] = TAGS
        if rng.random() < 0.1:
            body["DeletionPolicy"] = "Retain"
        resources[f"{rtype.split('::')[1]}{i}"] = body
    resources["Key0"] = {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}}
    resources["Role0"] = {"Type": "AWS::IAM::Role", "Properties": {}}
    path.write_text(json.dumps({"Resources": resources}))


CHILD = """
import gc, io, json, sys, time, resource
gc.disable()  # as govern check runs
from governance import formats
from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import load_template_file
from pathlib import Path
rules = all_rules()
t0, c0 = time.perf_counter(), time.process_time()
templates = [load_template_file(Path(sys.argv[1]))]
t1, c1 = time.perf_counter(), time.process_time()
result = evaluate(templates, Policy(environment="dev", suffix="dev"))
t2, c2 = time.perf_counter(), time.process_time()
with open(sys.argv[2], "w") as out:
    formats.write_json(result, [], out)
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps({"load_s": t1 - t0, "judge_s": t2 - t1, "load_cpu_s": c1 - c0,
                  "judge_cpu_s": c2 - c1, "write_s": t3 - t2, "write_cpu_s": c3 - c2,
                  "findings": len(result.findings),
                  "rules": len(rules), "resources": len(templates[0].resources),
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(path.with_suffix(".out.json"))],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.template.json"
        generate(args.resources, path)
        runs = [measure(path) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["load_cpu_s"] + r["judge_cpu_s"] + r["write_cpu_s"])
    total = best["load_s"] + best["judge_s"] + best["write_s"]
    cpu = best["load_cpu_s"] + best["judge_cpu_s"] + best["write_cpu_s"]
    rate = best["resources"] / cpu
    judge_rate = best["resources"] / best["judge_cpu_s"]
    rows = [
        ("resources", f"{best['resources']:,}", "", ""),
        ("rules", str(best["rules"]), "", ""),
        ("findings", f"{best['findings']:,}", "", ""),
        (f"parse + judge + JSON, wall (best of {args.repeat})", f"{total:.3f} s", "", ""),
        ("parse + judge + JSON, CPU of the one core", f"{cpu:.3f} s", "", ""),
        ("  of which writing JSON", f"{best['write_cpu_s']:.3f} s", "", ""),
        (
            "resources/s, CPU (parse + judge + JSON)",
            f"{rate:,.0f}",
            "20,000",
            f"{rate / 20000:.2f}x",
        ),
        (
            "resources/s, CPU (judge only)",
            f"{judge_rate:,.0f}",
            "20,000",
            f"{judge_rate / 20000:.2f}x",
        ),
        ("peak RSS", f"{best['maxrss_mb']:.0f} MB", "200 MB", f"{best['maxrss_mb'] / 200:.2f}x"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'measured':>12}  {'target':>8}  {'ratio':>6}")
    for name, value, target, ratio in rows:
        print(f"{name:<{width}}  {value:>12}  {target:>8}  {ratio:>6}")


if __name__ == "__main__":
    main()
