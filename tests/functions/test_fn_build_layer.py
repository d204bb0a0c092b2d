"""scripts/build_layer.py: stamp logic, pip failure handling, wheel tag checks (no network)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    (tmp_path / "stacks/layer/src/payments_common").mkdir(parents=True)
    (tmp_path / "stacks/layer/requirements.txt").write_text("jsonschema==4.26.0\n")
    (tmp_path / "stacks/layer/src/payments_common/__init__.py").write_text('"""x."""\n')
    return tmp_path


@pytest.fixture
def pip_calls(build_layer_module, monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake_run_pip(command: list[str], log_file: Path) -> None:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "jsonschema").mkdir()
        (target / "jsonschema/__init__.py").write_text("")

    monkeypatch.setattr(build_layer_module, "run_pip", fake_run_pip)
    return calls


def test_second_build_is_skipped_by_the_stamp(build_layer_module, fake_root, pip_calls, capsys):
    layer = build_layer_module.build_layer(fake_root)
    assert layer == fake_root / "build/layer/python"
    assert (layer / "payments_common/__init__.py").is_file()
    assert (layer / "jsonschema/__init__.py").is_file()

    assert build_layer_module.build_layer(fake_root) == layer
    assert len(pip_calls) == 1
    assert "skipping" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change",
    ["stacks/layer/requirements.txt", "stacks/layer/src/payments_common/__init__.py"],
)
def test_changed_inputs_trigger_a_rebuild(build_layer_module, fake_root, pip_calls, change):
    build_layer_module.build_layer(fake_root)
    with (fake_root / change).open("a") as handle:
        handle.write("# changed\n")
    build_layer_module.build_layer(fake_root)
    assert len(pip_calls) == 2


def test_pip_command_targets_arm64_python311(build_layer_module, fake_root, pip_calls):
    build_layer_module.build_layer(fake_root)
    command = " ".join(pip_calls[0])
    for part in (
        "--platform manylinux2014_aarch64",
        "--implementation cp",
        "--python-version 3.11",
        "--only-binary=:all:",
        "--upgrade",
    ):
        assert part in command


def test_pip_failure_exits_non_zero_with_one_line(
    build_layer_module, fake_root, monkeypatch, capsys
):
    def failing_run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(args, returncode=2)

    monkeypatch.setattr(build_layer_module.subprocess, "run", failing_run)

    assert build_layer_module.main(["--root", str(fake_root)]) == 1
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1
    assert err_lines[0].startswith("build_layer: error: pip install failed (exit 2)")
    assert not (fake_root / "build/layer.stamp").exists()


def test_non_arm64_wheel_is_rejected(build_layer_module, tmp_path):
    info = tmp_path / "rpds_py-1.0.dist-info"
    info.mkdir()
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: cp311-cp311-manylinux_2_17_x86_64\n")
    with pytest.raises(build_layer_module.LayerBuildError, match="x86_64"):
        build_layer_module.check_wheel_tags(tmp_path)


def test_console_scripts_leave_no_trace_of_the_build_interpreter(build_layer_module, tmp_path):
    """The layer (so its asset hash) must not depend on the checkout's path."""
    info = tmp_path / "idna-3.20.dist-info"
    info.mkdir()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/idna").write_text("#!/some/checkout/.venv/bin/python\n")
    (info / "RECORD").write_text("../../bin/idna,sha256=abc,166\nidna/__init__.py,sha256=def,849\n")
    build_layer_module.drop_console_scripts(tmp_path)
    assert not (tmp_path / "bin").exists()
    assert (info / "RECORD").read_text() == "idna/__init__.py,sha256=def,849\n"
