"""Benchmark: our rules vs checkov vs cfn-lint on the same templates, and what our plugin adds
to ``cdk synth``.

Run: ``make bench`` (or ``.venv/bin/python bench/bench_compliance.py [--env dev] [--repeat 3]``).

1. Synthesis of the platform (``app.py``'s stacks for ``--env``) in four variants, run
   round-robin ``--repeat`` times, median wall time of the app process (what ``cdk synth`` waits
   for): Aspects only (no validation plugin), Aspects + our plugin, Aspects + cdk-nag's
   AwsSolutions and PCI DSS 3.2.1 packs, Aspects + both. The time our plugin's ``validate`` takes
   inside the synth is measured too, so its share does not drown in the run-to-run noise.
2. On the templates of the Aspects-only synthesis: ``govern check`` (every rule), ``checkov``
   (from its own virtual environment) and ``cfn-lint``, each run as a program ``--repeat`` times;
   median wall time and peak resident memory (``wait4`` of the process).

Every number printed is measured in this run; the targets (plugin < 5 % of synth, govern check at
least 50 times faster than checkov) are printed beside them, met or not.
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
PY = sys.executable
VARIANTS = {
    "aspects": "Aspects only (no validation plugin)",
    "govern": "Aspects + our plugin",
    "nag": "Aspects + cdk-nag AwsSolutions + PCI DSS 3.2.1",
    "govern+nag": "Aspects + our plugin + cdk-nag (the platform's default)",
}
PLUGIN_TIME_FILE = "governance-plugin-seconds.txt"


# --- the app, run as a subprocess: bench_compliance.py --synth-variant NAME ---------------------


def synth_variant(variant: str) -> None:
    """Build the platform as ``app.py`` does, with only the validation plugins of ``variant``."""
    import dataclasses

    import aws_cdk as cdk
    import cdk_nag
    from aws_cdk import Validations

    import governance
    from governance.plugin import GovernancePlugin
    from governance.policy import Policy
    from stacks.assembly import build
    from stacks.config import cli_context, load_configuration

    class TimedPlugin(GovernancePlugin):
        def validate(self, context):  # type: ignore[override]
            start = time.perf_counter()
            try:
                return super().validate(context)
            finally:
                seconds = time.perf_counter() - start
                out = Path(os.environ["CDK_OUTDIR"]) / PLUGIN_TIME_FILE
                out.write_text(f"{seconds:.6f}\n")

    app = cdk.App()
    context = cli_context()
    config = load_configuration(context)
    policy = Policy.from_context(
        context.get("governance"),
        environment=config.name,
        profile=config.profile,
        suffix=config.suffix,
    )
    policy = dataclasses.replace(policy, cdk_nag_packs=())
    build(app, config, cost_center=policy.tag_values["CostCenter"])
    governance.apply_aspects(app, policy)
    plugins: list = []
    if "govern" in variant:
        plugins.append(TimedPlugin(policy))
    if "nag" in variant:
        plugins += [cdk_nag.AwsSolutionsChecks(app), cdk_nag.PCIDSS321Checks(app)]
    if plugins:
        Validations.of(app).add_plugins(*plugins)
    app.synth()


# --- measuring ----------------------------------------------------------------------------------


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict:
    """Wall seconds, exit code and the end of standard error of one run of ``cmd``."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, stderr = proc.communicate()
    wall = time.perf_counter() - start
    return {"seconds": wall, "code": proc.returncode, "stderr": stderr[-2000:]}


def measure_rss(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict:
    """Like :func:`measure`, with the process's own peak RSS from ``wait4``."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": wall, "code": proc.returncode, "rss_mb": usage.ru_maxrss / 1024}


def cdk_env(outdir: Path, env_name: str) -> dict[str, str]:
    """What ``cdk synth`` hands the app: the merged context and the output directory."""
    context = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    context["env"] = env_name
    return {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


def bench_synth(env_name: str, repeat: int, work: Path) -> tuple[dict, Path]:
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for i in range(repeat):
        for variant in VARIANTS:  # round-robin: drift of the machine hits every variant alike
            out = work / f"synth-{variant}-{i}"
            cmd = [PY, str(Path(__file__).resolve()), "--synth-variant", variant]
            run = measure(cmd, cdk_env(out, env_name))
            plugin_file = out / PLUGIN_TIME_FILE
            run["plugin_seconds"] = float(plugin_file.read_text()) if plugin_file.exists() else None
            runs[variant].append(run)
            print(
                f"  synth {variant:<11} run {i + 1}: {run['seconds']:6.2f} s (exit {run['code']})"
            )
    summary = {}
    for variant, rs in runs.items():
        plugin = [r["plugin_seconds"] for r in rs if r["plugin_seconds"] is not None]
        summary[variant] = {
            "median_s": statistics.median(r["seconds"] for r in rs),
            "runs_s": [round(r["seconds"], 3) for r in rs],
            "exit_codes": [r["code"] for r in rs],
            "plugin_median_s": statistics.median(plugin) if plugin else None,
        }
        bad = [r for r in rs if r["code"] not in (0, 1)]
        if bad:
            print(f"synth variant {variant} failed:\n{bad[0]['stderr']}", file=sys.stderr)
            sys.exit(1)
    return summary, work / "synth-aspects-0"


def bench_tools(assembly: Path, env_name: str, repeat: int) -> dict:
    templates = sorted(str(p) for p in assembly.glob("*.template.json"))
    checkov = ROOT / ".checkov-venv" / "bin" / "checkov"
    tools = {
        "govern check": [
            str(ROOT / ".venv" / "bin" / "govern"),
            "check",
            str(assembly),
            "--env",
            env_name,
            "--format",
            "json",
            "-o",
            os.devnull,
        ],
        "checkov": [str(checkov), "--framework", "cloudformation", "-o", "json", "--quiet"]
        + ["--skip-download", "--compact"]
        + [a for t in templates for a in ("-f", t)],
        "cfn-lint": [str(ROOT / ".venv" / "bin" / "cfn-lint"), *templates],
    }
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    results = {}
    for name, cmd in tools.items():
        if not Path(cmd[0]).exists():
            print(f"  {name}: not installed ({cmd[0]}), skipped")
            continue
        runs = [measure_rss(cmd, env) for _ in range(repeat)]
        for i, r in enumerate(runs):
            print(f"  {name:<12} run {i + 1}: {r['seconds']:6.2f} s, {r['rss_mb']:6.1f} MB")
        results[name] = {
            "median_s": statistics.median(r["seconds"] for r in runs),
            "peak_rss_mb": max(r["rss_mb"] for r in runs),
            "exit_codes": [r["code"] for r in runs],
        }
    engine = [engine_seconds(assembly, env_name) for _ in range(repeat)]
    print("  engine only (load + evaluate, in process): " + ", ".join(f"{e:.3f} s" for e in engine))
    return {"templates": len(templates), "tools": results, "engine_s": statistics.median(engine)}


ENGINE_SNIPPET = """
import sys, time
from governance.registry import all_rules
from governance.cli import load_policy
import argparse
all_rules()
policy = load_policy(argparse.Namespace(config=None, env=sys.argv[2], profile=None, suffix=None))
start = time.perf_counter()
from governance.template import load_inputs
from governance.engine import evaluate
templates, errors = load_inputs([sys.argv[1]])
evaluate(templates, policy)
print(time.perf_counter() - start)
"""


def engine_seconds(assembly: Path, env_name: str) -> float:
    """Loading and judging the templates inside one process, without start-up and imports."""
    proc = subprocess.run(
        [PY, "-c", ENGINE_SNIPPET, str(assembly), env_name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def report(synth: dict, tools: dict, env_name: str) -> str:
    lines = [
        f"## Compliance benchmark ({env_name}, measured {time.strftime('%Y-%m-%d %H:%M')})",
        "",
    ]
    base = synth["aspects"]["median_s"]
    lines += ["| synth variant | median wall (s) | vs Aspects only |", "|---|---:|---:|"]
    for variant, label in VARIANTS.items():
        s = synth[variant]["median_s"]
        lines.append(f"| {label} | {s:.2f} | {100 * (s - base) / base:+.1f} % |")
    gov = synth["govern"]
    plugin_share = None
    if gov["plugin_median_s"] is not None:
        plugin_share = 100 * gov["plugin_median_s"] / gov["median_s"]
        lines += [
            "",
            f"Our plugin's validate() inside the synth: {gov['plugin_median_s']:.3f} s median"
            f" = {plugin_share:.1f} % of that synth (target < 5 %:"
            f" {'met' if plugin_share < 5 else 'NOT met'}).",
        ]
    t = tools["tools"]
    lines += [
        "",
        f"Checkers on the same {tools['templates']} templates:",
        "",
        "| tool | median wall (s) | peak RSS (MB) | time vs govern check |",
        "|---|---:|---:|---:|",
    ]
    ours = t.get("govern check", {}).get("median_s")
    for name, r in t.items():
        ratio = f"{r['median_s'] / ours:.1f}x" if ours else "n/a"
        lines.append(f"| {name} | {r['median_s']:.2f} | {r['peak_rss_mb']:.0f} | {ratio} |")
    if ours and "checkov" in t:
        speedup = t["checkov"]["median_s"] / ours
        lines += [
            "",
            f"govern check is {speedup:.1f}x faster than checkov, each run as a program (target"
            f" >= 50x: {'met' if speedup >= 50 else 'NOT met'}).",
            f"Our engine alone (loading and judging the templates in a running process) takes"
            f" {tools['engine_s']:.3f} s: {t['checkov']['median_s'] / tools['engine_s']:.0f}x"
            " less than the checkov run; the rest of `govern check` is interpreter start-up and"
            " imports.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synth-variant", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("-o", "--output", default=str(ROOT / "build" / "bench" / "compliance.md"))
    args = parser.parse_args()
    if args.synth_variant:
        sys.path.insert(0, str(ROOT))
        synth_variant(args.synth_variant)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-compliance-") as tmp:
        print(f"synthesizing the platform ({args.env}) in {len(VARIANTS)} variants...")
        synth, assembly = bench_synth(args.env, args.repeat, Path(tmp))
        print("running the checkers on the same templates...")
        tools = bench_tools(assembly, args.env, args.repeat)
    text = report(synth, tools, args.env)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"synth": synth, **tools}, indent=2))
    print()
    print(text)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
