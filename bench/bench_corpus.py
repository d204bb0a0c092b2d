"""Benchmark: `govern check` beside checkov and cfn-lint on real templates, as whole processes.

    .venv/bin/python bench/bench_corpus.py CORPUS_DIR [--repeat 3] [--skip-others]

CORPUS_DIR is any folder of CloudFormation templates; none is committed here. The one the
numbers in docs/benchmarks.md come from is AWS's public sample repository:

    git clone --depth 1 https://github.com/aws-cloudformation/aws-cloudformation-templates /tmp/cfn-corpus

(or, where the session's ``fetch`` tool has mirrored it into /work/.mirror:
``git --git-dir=/work/.mirror/aws-cloudformation+aws-cloudformation-templates/repo archive HEAD |
tar -x -C /tmp/cfn-corpus``). Every ``*.json``, ``*.yaml``, ``*.yml`` and ``*.template`` file
with a ``Resources`` key is one input; the three tools get the same list of files.

Measured, each in a fresh process (CPU and peak RSS of that process alone, from ``wait4``):

1. the corpus: `govern check` vs checkov (``.checkov-venv/bin/checkov --framework
   cloudformation``) vs cfn-lint (``.venv/bin/cfn-lint``), wall and CPU, best of ``--repeat``
   for govern (one run of each of the others: they take minutes);
2. the generated 10,000-resource template of ``bench_check.py``: `govern check --format json -o
   FILE` with the full rule set and every finding written, resources per CPU-second and peak RSS;
3. start-up: `govern check` on one small template (best of ``--repeat * 3``).

The table prints measured figures, the targets of issue 13 and whether each is met. Rates use
CPU time, which a busy shared machine disturbs far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from bench_check import generate  # noqa: E402 - the generated template is shared

SUFFIXES = (".json", ".yaml", ".yml", ".template")
SMALL = ROOT / "tests" / "data" / "templates" / "good.yaml"


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    code: int


def run(cmd: list[str], cwd: Path = ROOT) -> Run:
    """One process: wall time, CPU (user + system) and peak RSS of that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.cpu)


def corpus_files(directory: Path) -> list[Path]:
    files = []
    for path in sorted(directory.rglob("*")):
        if not (path.is_file() and path.name.endswith(SUFFIXES)):
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        if "Resources" in text:
            files.append(path)
    return files


def compile_bytecode() -> None:
    """Compile the project's modules to bytecode first, as installing a wheel does.

    pip compiles every package it installs (checkov's and cfn-lint's included) but not an
    editable install's sources, and with ``PYTHONDONTWRITEBYTECODE=1`` (set on this machine)
    Python never writes what it compiles: each `govern` process would otherwise compile some 70
    modules from source, about 30 ms of a 100 ms start-up, which the other tools do not pay."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "governance", "rules", "reports"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def govern(*args: str) -> list[str]:
    return [sys.executable, "-m", "governance.cli", "check", *args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="folder of CloudFormation templates")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument(
        "--skip-others", action="store_true", help="measure govern only (no checkov, cfn-lint)"
    )
    args = parser.parse_args()
    compile_bytecode()
    files = corpus_files(args.corpus)
    if not files:
        sys.exit(f"{args.corpus}: no template found (see the module docstring for a corpus)")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        listing = [str(f) for f in files]
        g_runs = [
            run(govern(*listing, "--format", "json", "-o", str(out))) for _ in range(args.repeat)
        ]
        summary = json.loads(out.read_text())["summary"]
        g = best(g_runs)
        others: dict[str, Run] = {}
        if not args.skip_others:
            checkov = ROOT / ".checkov-venv" / "bin" / "checkov"
            cfn_lint = ROOT / ".venv" / "bin" / "cfn-lint"
            cmd = [str(checkov), "--framework", "cloudformation", "--quiet", "--compact"]
            cmd += ["-o", "json", "--output-file-path", tmp, "--skip-download"]
            for f in listing:
                cmd += ["-f", f]
            others["checkov"] = run(cmd)
            others["cfn-lint"] = run([str(cfn_lint), "--format", "json", "--", *listing])

        big = Path(tmp) / "bench.template.json"
        generate(args.resources, big)
        b_runs = [
            run(govern(str(big), "--suffix", "dev", "--format", "json", "-o", str(out)))
            for _ in range(args.repeat)
        ]
        b = best(b_runs)
        findings = len(json.loads(out.read_text())["findings"])
        s_runs = [run(govern(str(SMALL), "--suffix", "dev")) for _ in range(args.repeat * 3)]
        s = min(s_runs, key=lambda r: r.wall)
        s_cpu = min(r.cpu for r in s_runs)

    resources = summary["resources"]
    print(
        f"corpus: {len(files)} files, {summary['templates']} templates judged,"
        f" {resources:,} resources; {time.strftime('%Y-%m-%d')}, {platform.node()},"
        f" {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}"
    )
    print()
    print(f"{'tool':<10} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'res/CPU-s':>10}  govern is")
    for name, r in [("govern", g), *others.items()]:
        ratio = (
            ""
            if name == "govern"
            else f"{r.cpu / g.cpu:.0f}x faster (CPU), {r.wall / g.wall:.0f}x (wall)"
        )
        print(
            f"{name:<10} {r.wall:>8.2f} {r.cpu:>8.2f} {r.rss_mb:>8.0f} {resources / r.cpu:>10,.0f}  {ratio}"
        )
    print()
    rate = args.resources / b.cpu
    rows = [
        ("generated template: resources", f"{args.resources:,}", "", ""),
        ("  findings written (JSON)", f"{findings:,}", "", ""),
        ("  CPU, whole process", f"{b.cpu:.2f} s", "", ""),
        ("  resources per CPU-second", f"{rate:,.0f}", ">= 20,000", _met(rate >= 20_000)),
        ("  peak RSS", f"{b.rss_mb:.0f} MB", "< 200 MB", _met(b.rss_mb < 200)),
        (
            "start-up, one small template (wall)",
            f"{s.wall * 1000:.0f} ms",
            "< 120 ms",
            _met(s.wall < 0.12),
        ),
        ("start-up, CPU", f"{s_cpu * 1000:.0f} ms", "", ""),
    ]
    for name, target, bound in (("checkov", 50, ">= 50x"), ("cfn-lint", 20, ">= 20x")):
        if name in others:
            ratio = others[name].wall / g.wall
            rows.append(
                (f"corpus wall time vs {name}", f"{ratio:.0f}x", bound, _met(ratio >= target))
            )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'measured':>10}  {'target':>9}  met")
    for name, value, target, met in rows:
        print(f"{name:<{width}}  {value:>10}  {target:>9}  {met}")
    if resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY:
        print("note: an address-space limit is set; peak RSS may be capped")


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
