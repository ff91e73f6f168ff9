"""fit(): run-folder artefacts, NaN stop keeping the last good checkpoint, in-process resume."""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
import torch
import torch.nn.functional as F
from train_fixtures import tiny_config

import senet
from senet.config import ConfigError
from senet.train import NonFiniteLossError, fit, load_checkpoint, load_result
from senet.train.optim import lr_factor


def test_fit_writes_the_run_folder(tmp_path) -> None:
    result = fit(tiny_config(tmp_path / "run", epochs=2), quiet=True)
    run = tmp_path / "run"
    assert load_result(run) == result
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["name"] == "se_resnet20_cifar" and config["data"]["input_size"] == 8
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[-1]["top1"] == pytest.approx(result.top1) and result.top1_error == pytest.approx(
        100 - result.top1
    )
    assert 0 <= result.top1 <= result.top5 <= 100 and rows[-1]["val_images"] == 64
    assert result.params > 0 and result.macs > 0 and result.input_size == 8
    found = load_checkpoint(result.checkpoint, with_state=True)
    assert found.epoch == 2 and found.data_info["num_classes"] == 10
    assert set(found.state) >= {"optimizer", "scheduler", "rng", "epoch", "config"}


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch) -> None:
    config = tiny_config(tmp_path / "run", epochs=3)
    real = F.cross_entropy
    calls = {"n": 0}

    def poisoned(*args, **kwargs):  # NaN from the 2nd epoch's first training step on
        out = real(*args, **kwargs)
        calls["n"] += 1
        return out * float("nan") if calls["n"] > 4 + 2 else out  # 4 train steps + 2 eval batches

    monkeypatch.setattr(F, "cross_entropy", poisoned)
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 2, step 1.*epoch-0001"):
        fit(config, quiet=True)
    assert load_checkpoint(tmp_path / "run").epoch == 1  # the good one stays, loadable
    assert not (tmp_path / "run" / "result.json").exists()


def test_huge_learning_rate_stops_with_a_clear_message(tmp_path) -> None:
    with pytest.raises(NonFiniteLossError, match="lower the learning rate|Lower the learning rate"):
        fit(tiny_config(tmp_path / "run", lr=1e38, epochs=1, momentum=0.0, schedule="constant"), quiet=True)


def test_resume_in_process_matches_an_uninterrupted_run(tmp_path) -> None:
    full = fit(tiny_config(tmp_path / "full", epochs=2), quiet=True)
    fit(tiny_config(tmp_path / "part", epochs=2), quiet=True)
    # stop the second run after epoch 1 by deleting its epoch-2 checkpoint and metrics, then resume
    part = tmp_path / "part"
    import shutil

    shutil.rmtree(part / "checkpoints" / "epoch-0002")
    (part / "result.json").unlink()
    resumed = fit(tiny_config(part, epochs=2), resume=True, quiet=True)
    assert resumed.top1 == full.top1 and resumed.val_loss == full.val_loss
    rows = [json.loads(line) for line in (part / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]


def test_lr_schedules() -> None:
    base = tiny_config("unused", epochs=10)
    step = lr_factor(base.replace(schedule="step", step_size=3), iters_per_epoch=2)
    assert [step(i) for i in (0, 5, 6, 12)] == [1.0, 1.0, pytest.approx(0.1), pytest.approx(0.01)]
    multi = lr_factor(base.replace(schedule="multistep", milestones=(0.5, 0.75)), iters_per_epoch=1)
    assert [multi(i) for i in (4, 5, 7, 8)] == [
        1.0,
        pytest.approx(0.1),
        pytest.approx(0.1),
        pytest.approx(0.01),
    ]
    cos = lr_factor(base.replace(schedule="cosine", warmup_epochs=2), iters_per_epoch=1)
    assert cos(0) == pytest.approx(0.5) and cos(2) == pytest.approx(1.0) and cos(6) == pytest.approx(0.5)
    assert math.isclose(cos(10), 0.0, abs_tol=1e-12)
    lin = lr_factor(base.replace(schedule="linear", warmup_epochs=2), iters_per_epoch=1)
    assert [lin(i) for i in (0, 1, 2, 6)] == [0.5, 1.0, 1.0, pytest.approx(0.5)]
    assert lin(10) == 0.0 and lin(9) == pytest.approx(1 / 8)


def test_norm_lr_scale_speeds_the_norm_group_and_keeps_its_decay_per_step() -> None:
    from senet.train.optim import build_optimizer

    config = tiny_config("unused", lr=0.1, weight_decay=1e-3, norm_lr_scale=64.0)
    model = senet.create_model("resnet20_cifar")
    groups = {g["name"]: g for g in build_optimizer(config, model).param_groups}
    assert groups["weights"]["lr"] == pytest.approx(0.1) and groups["norm"]["lr"] == pytest.approx(6.4)
    assert groups["norm"]["lr"] * groups["norm"]["weight_decay"] == pytest.approx(0.1 * 1e-3)
    bn = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert {id(p) for p in groups["norm"]["params"]} == {id(p) for m in bn for p in m.parameters()}
    with pytest.raises(ConfigError, match="norm_lr_scale"):
        tiny_config("unused", norm_lr_scale=0.0)


def test_evaluate_scores_views_on_their_mean_softmax() -> None:
    from senet.train.loop import evaluate

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 5))
    images, labels = torch.randn(6, 3, 4, 4), torch.randint(0, 5, (6,))
    views = torch.stack([images, images.flip(-1)], 1)  # what an eval_flip loader yields
    got = evaluate(model, [(views, labels)])
    with torch.no_grad():  # the mean of the two softmax outputs, computed here independently
        probs = (model(images).softmax(-1) + model(images.flip(-1)).softmax(-1)) / 2
    assert got["val_loss"] == pytest.approx(
        torch.nn.functional.nll_loss(probs.log(), labels).item(), rel=1e-5
    )
    assert got["top1"] == pytest.approx(100 * (probs.argmax(-1) == labels).float().mean().item())


def test_a_fresh_run_gives_data_dependent_inits_the_first_batch() -> None:
    from senet.train.models import init_from_data

    seen = []

    class Whitened(torch.nn.Linear):
        def init_from_data(self, images: torch.Tensor) -> None:
            seen.append(images)

    batches = [(torch.full((2, 3), float(i)), torch.zeros(2)) for i in range(3)]
    assert init_from_data(Whitened(3, 1), batches) and len(seen) == 1 and seen[0].eq(0).all()
    assert not init_from_data(torch.nn.Linear(3, 1), batches)


def test_frozen_bn_in_the_last_epochs(tmp_path) -> None:
    result = fit(
        tiny_config(tmp_path / "run", epochs=2, freeze_bn_last_epochs=1, schedule="constant"), quiet=True
    )
    found = load_checkpoint(result.checkpoint, with_state=True)
    groups = found.state["optimizer"]["param_groups"]
    assert [g["name"] for g in groups] == ["weights", "norm"] and groups[1]["lr"] == 0.0 < groups[0]["lr"]
    assert torch.is_tensor(found.weights["bn1.running_mean"])


def test_a_stop_during_the_banner_releases_the_run_folder(tmp_path, monkeypatch) -> None:
    import senet.train.engine as engine

    def interrupted(run) -> None:  # a SIGTERM / Ctrl-C landing after the set-up, before epoch 1
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "announce", interrupted)
    with pytest.raises(KeyboardInterrupt) as caught:
        fit(tiny_config(tmp_path / "run"), quiet=True)
    # checked while the traceback (and the frames holding the run) lives, as in a worker that ends
    # with os._exit: a lock left to the garbage collector would still be there
    assert caught.traceback and (tmp_path / "run" / "config.json").is_file()
    assert not (tmp_path / "run" / "run.lock").exists()


def test_config_problems_are_reported_before_training(tmp_path) -> None:
    from senet.train import ConfigError

    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="fp16"):
            fit(tiny_config(tmp_path / "a", amp="fp16"), quiet=True)  # fp16 needs a GPU
    with pytest.raises(ConfigError, match="data.root"):
        fit(tiny_config(tmp_path / "b").with_overrides(["data.dataset=mnist", "data.root="]), quiet=True)
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ConfigError, match="tensorboard"):
            fit(tiny_config(tmp_path / "c", tensorboard=True), quiet=True)


def test_resume_with_a_new_learning_rate_continues_the_schedule_from_it(tmp_path) -> None:
    import shutil

    run = tmp_path / "run"
    fit(tiny_config(run, epochs=3, schedule="step", step_size=1, gamma=0.5), quiet=True)
    shutil.rmtree(run / "checkpoints" / "epoch-0003")  # stopped after epoch 2 (8 of 12 iterations)
    resumed = tiny_config(run, epochs=3, schedule="step", step_size=1, gamma=0.5, lr=0.02)
    fit(resumed, resume=True, quiet=True)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert (
        rows[1]["lr"] == 0.05 * 0.5**2 and rows[2]["lr"] == 0.02 * 0.5**3
    )  # the new base rate, same schedule
    state = load_checkpoint(run, with_state=True).state
    assert state["scheduler"]["base_lrs"] == [0.02, 0.02] and state["scheduler"]["last_epoch"] == 12
    assert [g["initial_lr"] for g in state["optimizer"]["param_groups"]] == [0.02, 0.02]


def test_prepare_cleans_what_a_killed_run_left(tmp_path) -> None:
    from senet.train import rundir

    run = tmp_path / "run"
    (rundir.partial_dir(run, 3)).mkdir(parents=True)
    rundir.append_metrics(run, {"epoch": 1, "top1": 1.0})
    rundir.append_metrics(run, {"epoch": 2, "top1": 2.0})
    (run / rundir.RESULT).write_text("{}")
    rundir.prepare(run, {"model": "m"}, epochs_done=1)
    assert not list((run / rundir.CHECKPOINTS).iterdir()) and not (run / rundir.RESULT).exists()
    assert rundir.read_metrics(run) == [{"epoch": 1, "top1": 1.0}]
    assert json.loads((run / rundir.CONFIG).read_text()) == {"model": "m"}
    assert rundir.list_checkpoints(run) == [] and load_result(run) is None


@pytest.mark.parametrize(
    "changes",
    [
        dict(lr=float("inf")),
        dict(lr=float("nan")),
        dict(momentum=float("nan")),
        dict(weight_decay=float("inf")),
        dict(warmup_epochs=float("inf")),
        dict(lr=1e308, lr_reference_batch=1),  # finite, but 128 times that is not
    ],
)
def test_non_finite_rates_are_refused(changes) -> None:
    from senet.train import ConfigError

    with pytest.raises(ConfigError, match="finite"):
        tiny_config("unused", **changes)


def test_a_nan_validation_loss_stops_before_anything_is_recorded(tmp_path) -> None:
    # lr 1e3: the training loss stays finite (huge) in epoch 1, the weights and validation loss do not
    with pytest.raises(NonFiniteLossError, match=r"after epoch 1: .*val_loss nan.*no epoch finished"):
        fit(tiny_config(tmp_path / "run", lr=1e3, epochs=2), quiet=True)
    run = tmp_path / "run"
    assert not (run / "checkpoints").exists() or not list((run / "checkpoints").iterdir())
    assert not (run / "metrics.jsonl").exists() or not (run / "metrics.jsonl").read_text().strip()
    assert not (run / "result.json").exists()


def test_non_finite_weights_stop_and_keep_the_last_good_checkpoint(tmp_path, monkeypatch) -> None:
    from senet.train import engine

    real = engine.train_one_epoch

    def poisoned(model, *args, epoch, **kwargs):  # epoch 2 leaves an infinite BN statistic
        stats = real(model, *args, epoch=epoch, **kwargs)
        if epoch == 1:
            model.bn1.running_var[0] = float("inf")  # x / sqrt(inf) = 0: the outputs stay finite
        return stats

    monkeypatch.setattr(engine, "train_one_epoch", poisoned)
    with pytest.raises(
        NonFiniteLossError,
        match=r"after epoch 2: NaN/inf in 1 weight tensor\(s\): bn1.running_var.*epoch-0001",
    ):
        fit(tiny_config(tmp_path / "run", epochs=3), quiet=True)
    good = load_checkpoint(tmp_path / "run")
    assert good.epoch == 1 and all(
        torch.isfinite(t).all() for t in good.weights.values() if t.is_floating_point()
    )
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1]


def test_metrics_files_are_strict_json(tmp_path) -> None:
    from senet.train import rundir

    with pytest.raises(ValueError, match="val_loss=nan"):
        rundir.append_metrics(tmp_path, {"epoch": 1, "val_loss": float("nan"), "top1": 9.38})
    assert "NaN" not in (tmp_path / "metrics.jsonl").read_text()
    result = fit(tiny_config(tmp_path / "run", epochs=1), quiet=True)
    with pytest.raises(ValueError, match="top5=inf"):
        rundir.write_result(tmp_path, result.__class__(**{**result.to_dict(), "top5": float("inf")}))
    assert not (tmp_path / "result.json").exists()
    for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines():
        json.loads(line, parse_constant=lambda token: pytest.fail(f"non-JSON token {token}"))
