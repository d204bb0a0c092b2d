"""Benchmark: what CDK's built-in CloudFormation validation costs our synthesis.

Run: ``.venv/bin/python bench/bench_cdk_validation.py [--env production] [--repeat 5]``.

aws-cdk-lib runs a CloudFormation validation plugin of its own on every synthesis
(``App(builtin_cloud_formation_validation=True)`` by default; the environment variable
``CDK_VALIDATION=false``, which ``cdk synth --no-validation`` sets, turns it off too). Its
findings are only warnings unless ``@aws-cdk/core:validateAgainstDefaultRules`` is set. Our
``app.py`` hands the App the context key ``cdk_builtin_validation``. This script runs
``app.py`` as ``cdk synth`` does (a subprocess with ``CDK_OUTDIR`` and the context), with the
key true and false, round-robin ``--repeat`` times, and prints the median wall time of each, their
ratio, and what the built-in validation reported (its entry in ``validation-report.json``).
Every number printed is measured in this run. Results and the choice: docs/deploy.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {
    "with": "built-in validation on (aws-cdk-lib's default)",
    "without": "cdk_builtin_validation=false (our cdk.json)",
}


def cdk_env(outdir: Path, env_name: str, variant: str) -> dict[str, str]:
    context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    context["env"] = env_name
    context["cdk_builtin_validation"] = variant == "with"
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    env.pop("CDK_VALIDATION", None)
    return env


def builtin_report(outdir: Path) -> str:
    """What the built-in plugin put in the validation report (or that it is absent)."""
    path = outdir / "validation-report.json"
    if not path.is_file():
        return "no validation-report.json"
    report = json.loads(path.read_text())
    names = [p.get("pluginName", "") for p in report.get("pluginReports", [])]
    builtin = [
        p for p in report.get("pluginReports", []) if "formation" in p.get("pluginName", "").lower()
    ]
    if not builtin:
        return f"not in the report (plugins: {', '.join(names)})"
    violations = builtin[0].get("violations", [])
    return f"{builtin[0]['pluginName']}: {len(violations)} findings"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="production")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    runs: dict[str, list[float]] = {v: [] for v in VARIANTS}
    reports: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cdk-validation-") as tmp:
        for i in range(args.repeat):
            for variant in VARIANTS:  # round-robin: machine drift hits both alike
                out = Path(tmp) / f"{variant}-{i}"
                start = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, str(ROOT / "app.py")],
                    cwd=ROOT,
                    env=cdk_env(out, args.env, variant),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                seconds = time.perf_counter() - start
                if proc.returncode != 0:
                    print(proc.stderr[-3000:], file=sys.stderr)
                    return 1
                runs[variant].append(seconds)
                reports[variant] = builtin_report(out)
                print(f"run {i + 1} {variant:8} {seconds:6.2f} s", file=sys.stderr)
    med = {v: statistics.median(s) for v, s in runs.items()}
    print(f"\nsynthesis of env={args.env}, {args.repeat} runs each, median wall time of app.py\n")
    print("| variant | median s | min s | max s | built-in validation reported |")
    print("| --- | --- | --- | --- | --- |")
    for v, label in VARIANTS.items():
        print(
            f"| {label} | {med[v]:.2f} | {min(runs[v]):.2f} | {max(runs[v]):.2f} | {reports[v]} |"
        )
    saved = med["with"] - med["without"]
    print(
        f"\nwithout / with = {med['without'] / med['with']:.2f}; the built-in validation is "
        f"{saved:.2f} s, {100 * saved / med['with']:.0f} % of a synthesis"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
