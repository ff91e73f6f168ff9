"""The ``senet`` command line: the complexity sub-command and error handling."""

import json
import subprocess
import sys

import pytest

from senet.cli import main


def test_complexity_table(capsys: pytest.CaptureFixture) -> None:
    assert main(["complexity", "resnet50", "se_resnet50"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[-2:] == ["25.6", "3.86"]
    assert lines[2].split()[-2:] == ["28.1", "3.87"]


def test_complexity_json_and_patterns(capsys: pytest.CaptureFixture) -> None:
    assert main(["complexity", "se_resnext*", "--json", "--input-size", "160"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in rows] == ["se_resnext101_32x4d", "se_resnext50_32x4d"]
    assert all(r["input_size"] == 160 and r["params"] > 2e7 for r in rows)


def test_unknown_model_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["complexity", "se_resnet05"]) == 2
    assert "did you mean 'se_resnet50'" in capsys.readouterr().err


def test_console_entry_point() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "senet.cli", "complexity", "resnet18"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "resnet18" in out and "11.7" in out


def test_python_dash_m_senet_and_version() -> None:
    from senet import __version__

    run = subprocess.run(
        [sys.executable, "-m", "senet", "--help"], capture_output=True, text=True, check=True
    )
    assert run.stdout.startswith("usage: senet") and "train" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "senet", "--version"], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == f"senet {__version__}"
