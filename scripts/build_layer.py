"""Build the shared Lambda layer directory ``build/layer/python/``.

The layer holds the third-party libraries from ``stacks/layer/requirements.txt`` - as
Linux arm64 (Graviton) wheels for CPython 3.11, whatever machine this runs on - plus the
``payments_common`` package from ``stacks/layer/src``. The CDK stack uses ``build/layer``
as the layer asset (Lambda puts ``python/`` on ``sys.path``).

A stamp file (``build/layer.stamp``) records a hash of requirements.txt, the package
sources, the pip target options and the build's format; when it matches and the layer exists,
nothing is done. After installing, every wheel's tags are checked so an x86_64 binary can never
slip in.

The layer's content depends on its inputs only, not on where the repository is checked out:
pip's console scripts (``bin/``, whose first line names this machine's interpreter) are removed
and so are their lines in each ``RECORD``; otherwise the asset hash, and with it the template,
would change with the checkout's path.

Usage: ``python scripts/build_layer.py [--force]``. Exits 1 with one error line on failure.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.11"
PACKAGE = "payments_common"
#: Bump when the same inputs start producing a different layer (invalidates old stamps).
BUILD_FORMAT = "2"
#: Where pip's RECORD lists the console scripts of ``--target`` installs.
CONSOLE_SCRIPTS = "../../bin/"


class LayerBuildError(RuntimeError):
    """The layer could not be built; the message is a single human-readable line."""


def pip_command(requirements: Path, target: Path) -> list[str]:
    """The pip invocation that installs arm64 / CPython 3.11 wheels into ``target``."""
    return [
        sys.executable, "-m", "pip", "install",
        "-r", str(requirements),
        "--target", str(target),
        "--platform", PLATFORM,
        "--implementation", "cp",
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
        "--upgrade",
    ]  # fmt: skip


def _source_files(src: Path) -> list[Path]:
    return sorted(
        p
        for p in src.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def compute_stamp(root: Path) -> str:
    """Hash of requirements.txt, the package sources and the pip target options."""
    digest = hashlib.sha256(f"{PLATFORM}|{PYTHON_VERSION}|cp|{BUILD_FORMAT}\n".encode())
    digest.update((root / "stacks/layer/requirements.txt").read_bytes())
    src = root / "stacks/layer/src" / PACKAGE
    for path in _source_files(src):
        digest.update(f"\n{path.relative_to(src).as_posix()}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_pip(command: list[str], log_file: Path) -> None:
    """Run pip, writing its output to ``log_file``. Raises LayerBuildError on failure."""
    with log_file.open("w", encoding="utf-8") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise LayerBuildError(f"pip install failed (exit {result.returncode}); see {log_file}")


def check_wheel_tags(target: Path) -> list[str]:
    """Return the non-pure wheel tags installed; raise if any is not Linux aarch64."""
    binary_tags = []
    for wheel_file in sorted(target.glob("*.dist-info/WHEEL")):
        for line in wheel_file.read_text(encoding="utf-8").splitlines():
            if not line.startswith("Tag:") or line.endswith("-any"):
                continue
            tag = line.split(":", 1)[1].strip()
            if "aarch64" not in tag or "linux" not in tag:
                raise LayerBuildError(f"{wheel_file.parent.name} has non-arm64 tag {tag}")
            binary_tags.append(f"{wheel_file.parent.name.split('-')[0]} {tag}")
    return binary_tags


def drop_console_scripts(target: Path) -> None:
    """Remove pip's console scripts and their RECORD lines (they name the build interpreter)."""
    shutil.rmtree(target / "bin", ignore_errors=True)
    for record in sorted(target.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(CONSOLE_SCRIPTS)]
        if kept != lines:
            record.write_text("".join(kept), encoding="utf-8")


def _read_stamp(stamp_file: Path) -> str | None:
    return stamp_file.read_text(encoding="utf-8").strip() if stamp_file.is_file() else None


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_layer(root: Path, force: bool = False) -> Path:
    """Build (or reuse) ``root/build/layer/python`` and return that directory."""
    requirements = root / "stacks/layer/requirements.txt"
    src = root / "stacks/layer/src" / PACKAGE
    build_dir = root / "build"
    target = build_dir / "layer" / "python"
    stamp_file = build_dir / "layer.stamp"
    if not requirements.is_file() or not (src / "__init__.py").is_file():
        raise LayerBuildError(f"missing {requirements} or {src}/__init__.py")

    stamp = compute_stamp(root)
    if not force and target.is_dir() and _read_stamp(stamp_file) == stamp:
        print(f"layer up to date ({stamp[:12]}), skipping: {target}")
        return target

    print(f"building layer in {target}")
    shutil.rmtree(target, ignore_errors=True)
    stamp_file.unlink(missing_ok=True)
    target.mkdir(parents=True)
    command = pip_command(requirements, target)
    print("running: " + " ".join(command))
    run_pip(command, build_dir / "layer-pip.log")

    for tag in check_wheel_tags(target):
        print(f"binary wheel: {tag}")
    drop_console_scripts(target)  # useless in a layer, and they name this machine's python
    print(f"copying {src} -> {target / PACKAGE}")
    shutil.copytree(src, target / PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    stamp_file.write_text(stamp + "\n", encoding="utf-8")
    print(f"layer ready: {target} ({_tree_size(target) / 1_048_576:.1f} MiB), stamp {stamp[:12]}")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the stamp matches")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    try:
        build_layer(args.root, force=args.force)
    except (LayerBuildError, OSError) as exc:
        print(f"build_layer: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
