"""Progress off a terminal (lines every LOG_INTERVAL seconds), on a terminal (a bar), the loader
wrapper, the start banner and the input-size warning."""

from __future__ import annotations

import io

from senet.cli import main
from senet.spec import ModelSpec
from senet.train import progress
from senet.train.banner import input_size_warning, total_stride
from senet.train.progress import Progress, Tracked

TINY = ["--set", "data.input_size=8", "--set", "data.limit_train=64", "--set", "data.limit_val=32"]
TINY += ["--batch-size", "16", "--epochs", "1", "--deterministic"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_carry_step_speed_loss_lr_and_eta() -> None:
    stream = io.StringIO()
    bar = Progress(4, "epoch 1/2", stream=stream, interval=0)
    for _ in range(3):
        bar.update(32, loss=1.25, lr=0.1)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    assert lines[-1].startswith("epoch 1/2  step 3/4 (75%)")
    for part in ("img/s", "ETA ", "loss 1.25", "lr 0.1"):
        assert part in lines[-1]


def test_log_lines_wait_for_the_interval_and_default_to_twice_a_minute() -> None:
    assert 0 < progress.LOG_INTERVAL <= 60
    stream = io.StringIO()
    bar = Progress(100, "epoch 1/1", stream=stream)  # the default interval: nothing within a fast loop
    for _ in range(50):
        bar.update(8, loss=1.0)
    bar.close()
    assert stream.getvalue() == ""
    quiet = io.StringIO()
    bar = Progress(4, "epoch", stream=quiet, interval=0, enabled=False)
    bar.update(8)
    bar.close("done")
    assert quiet.getvalue() == ""


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    stream = Terminal()
    bar = Progress(2, "eval", stream=stream)
    bar.update(4)
    bar.update(4)
    bar.close()
    assert stream.getvalue().startswith("\reval [") and "2/2" in stream.getvalue()


def test_tracked_loader_yields_everything_and_reports() -> None:
    class Loader(list):
        bad_images = ["x.png"]

    loader = Loader([([1, 2, 3], [0, 1, 2]), ([4], [3])])
    stream = io.StringIO()
    tracked = Tracked(loader, "eval", stream=stream, interval=0)
    assert len(tracked) == 2 and tracked.bad_images == ["x.png"]
    assert list(tracked) == list(loader)
    assert len(stream.getvalue().splitlines()) == 1  # after step 1; the last step's line is the caller's
    assert "step 1/2 (50%)" in stream.getvalue() and "img/s" in stream.getvalue()


def test_total_stride_and_the_input_size_warning() -> None:
    assert total_stride(ModelSpec("se_resnet50")) == 32
    assert total_stride(ModelSpec("se_resnet20_cifar")) == 4
    warning = input_size_warning(ModelSpec("se_resnet50"), 16, in_chans=1)
    assert warning is not None and "--input-size 224" in warning and "16x16" in warning
    assert input_size_warning(ModelSpec("se_resnet50"), 224) is None
    assert input_size_warning(ModelSpec("se_resnet20_cifar"), 16) is None


def test_a_logged_run_prints_the_banner_first_then_progress_lines(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(progress, "LOG_INTERVAL", 0.0)  # a line every step
    argv = ["train", "--model", "se_resnet20_cifar", *TINY, "--log-every-steps", "1"]  # loss read each step  # fmt: skip
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"run folder: {tmp_path / 'run'}"
    assert err[1].startswith("model: se_resnet20_cifar (0.27") and "GFLOPs at 8x8" in err[1]
    assert err[2] == "data: digits, 10 classes, 64 train / 32 val images"
    assert err[3].startswith("plan: 1 epoch x 4 steps of batch 16 = 4 steps; recipe fast")
    steps = [line for line in err if line.startswith("epoch 1/1  step ")]
    assert [s.split()[3] for s in steps] == ["1/4", "2/4", "3/4"] and all(
        "loss" in s and "lr" in s for s in steps
    )
    assert err.index(steps[-1]) < next(
        i for i, line in enumerate(err) if line.startswith("se_resnet20_cifar epoch")
    )


def test_quiet_prints_no_banner_but_warns_about_tiny_inputs(tmp_path, capsys) -> None:
    args = ["train", "--model", "se_resnet50", *TINY, "--quiet", "--set", "limit_train_batches=1"]
    assert main([*args, "--set", "limit_val_batches=1", "--out", str(tmp_path / "r50")]) == 0
    err = capsys.readouterr().err
    assert "run folder:" not in err and "step" not in err
    assert err.startswith("warning: se_resnet50 shrinks its input 32x") and "--input-size 224" in err
