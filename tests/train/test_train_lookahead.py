"""Lookahead weight averaging (``lookahead_every``, ``lookahead_decay``; airbench94's, Zhang et al. 2019):
against a hand-written reference, off and no-op cases, the end of the run, exact resume, no host
read per step, configuration errors."""

from __future__ import annotations

import copy
import json
import math
import shutil

import pytest
import torch
from torch import nn
from train_fixtures import count_host_reads, tiny_config

from senet.cli import build_parser
from senet.train import ConfigError, TrainConfig, engine, fit, load_checkpoint, meter
from senet.train.cli import config_from_args
from senet.train.lookahead import Lookahead
from senet.train.loop import train_one_epoch
from senet.train.rundir import RunFolderError
from senet.train.step import Stepper

_KEYS = ("train_loss", "train_top1", "val_loss", "top1", "lr")


def _tiny_net() -> nn.Module:
    torch.manual_seed(3)  # BN: running statistics are averaged too
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 5))


def _batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(7)
    return [(torch.randn(8, 3, 4, 4, generator=g), torch.randint(0, 5, (8,), generator=g)) for _ in range(n)]


def _sgd(model: nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9, weight_decay=1e-3)


def _reference(k: int, decay: float, total: int) -> dict[str, torch.Tensor]:
    """Plain SGD for ``total`` steps; by hand every k steps, slow <- lerp(slow, fast, 1 - alpha_t) and
    fast <- slow for each floating-point state-dict entry; at the end fast <- slow."""
    model = _tiny_net()
    opt = _sgd(model)
    fast = model.state_dict()  # references to the live tensors
    slow = {name: t.clone() for name, t in fast.items() if t.is_floating_point()}
    for t, (x, y) in enumerate(_batches(total), start=1):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if t % k == 0:
            alpha = decay * (t / total) ** 3
            with torch.no_grad():
                for name in slow:
                    slow[name] = torch.lerp(slow[name], fast[name], 1 - alpha)
                    fast[name].copy_(slow[name])
    with torch.no_grad():
        for name in slow:
            fast[name].copy_(slow[name])
    return {name: t.clone() for name, t in model.state_dict().items()}


def _stepped(k: int, decay: float, epochs: int, batches: int) -> tuple[nn.Module, Lookahead | None]:
    """The same training through Stepper (``k == 0``: no Lookahead); 1-batch optimizer steps."""
    model = _tiny_net()
    opt = _sgd(model)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: 1.0)
    look = Lookahead(model, k, decay) if k else None
    data = _batches(epochs * batches)
    for epoch in range(epochs):
        stepper = Stepper(model, opt, sched, TrainConfig(epochs=epochs), batches=batches, lookahead=look)
        for step in range(batches):
            x, y = data[epoch * batches + step]
            with stepper.context(step):
                stepper.backward(step, nn.functional.cross_entropy(model(x), y))
    return model, look


@pytest.mark.parametrize("k", [5, 4])
def test_stepper_matches_a_hand_written_lookahead_exactly(k: int) -> None:
    model, look = _stepped(k, decay=0.95**5, epochs=2, batches=6)  # T = 12: a final copy when k = 5
    want = _reference(k, decay=0.95**5, total=12)
    got = model.state_dict()
    assert got.keys() == want.keys()
    assert all(torch.equal(got[name], want[name]) for name in want)  # bit for bit
    slow = look.state_dict()
    assert set(slow) == {n for n, t in got.items() if t.is_floating_point()}  # num_batches_tracked: not
    assert "1.running_mean" in slow and "1.running_var" in slow
    assert all(torch.equal(slow[name], got[name]) for name in slow)  # the run ends on the slow weights
    plain, _ = _stepped(0, decay=0.0, epochs=2, batches=6)
    assert not torch.equal(plain.state_dict()["4.weight"], got["4.weight"])  # it did something


def test_alpha_follows_the_cubic_ramp_to_decay() -> None:
    look = Lookahead(_tiny_net(), 5, 0.8)
    assert look.alpha(0, 100) == 0.0 and look.alpha(100, 100) == pytest.approx(0.8)
    assert look.alpha(50, 100) == pytest.approx(0.8 / 8) and look.alpha(200, 100) == pytest.approx(0.8)


def test_off_builds_nothing_and_a_zero_decay_changes_no_bit(tmp_path) -> None:
    run = engine.setup(tiny_config(tmp_path / "setup"), quiet=True)
    run.folder.close()
    assert run.lookahead is None
    off = fit(tiny_config(tmp_path / "off"), quiet=True)
    # every step, alpha_t = 0: slow <- fast, fast <- slow; the run is the plain one, bit for bit
    noop = fit(tiny_config(tmp_path / "noop", lookahead_every=1, lookahead_decay=0.0), quiet=True)
    a, b = load_checkpoint(off.checkpoint, with_state=True), load_checkpoint(noop.checkpoint, with_state=True)
    assert "lookahead" not in a.state and "lookahead" in b.state
    assert all(torch.equal(a.weights[name], b.weights[name]) for name in a.weights)
    assert (off.top1, off.val_loss) == (noop.top1, noop.val_loss)


def _kill_after_epoch_1(part) -> None:
    shutil.rmtree(part / "checkpoints" / "epoch-0002")
    (part / "result.json").unlink()


@pytest.mark.parametrize(
    "changes",
    [
        dict(lookahead_every=3, lookahead_decay=0.9),
        dict(lookahead_every=3, ema_decay=0.9, accumulate_steps=2),
    ],
    ids=["lookahead", "with-ema-and-accumulation"],
)
def test_the_run_ends_on_the_slow_weights_and_resumes_bit_exactly(tmp_path, changes) -> None:
    full = fit(tiny_config(tmp_path / "full", **changes), quiet=True)
    end = load_checkpoint(full.checkpoint, with_state=True)
    slow = end.state["lookahead"]
    floats = {name for name, t in end.weights.items() if t.is_floating_point()}
    assert set(slow) == floats
    assert all(torch.equal(end.weights[name], slow[name]) for name in floats)  # fast <- slow at the end
    # epoch 1 ends between two updates (step 4 of 8 with k = 3, or 2 of 4): the fast weights moved on
    first = load_checkpoint(tmp_path / "full" / "checkpoints" / "epoch-0001", with_state=True)
    assert not all(torch.equal(first.weights[name], first.state["lookahead"][name]) for name in floats)

    fit(tiny_config(tmp_path / "part", **changes), quiet=True)
    part = tmp_path / "part"
    _kill_after_epoch_1(part)
    resumed = fit(tiny_config(part, **changes), resume=True, quiet=True)
    again = load_checkpoint(resumed.checkpoint, with_state=True)
    assert (resumed.top1, resumed.val_loss) == (full.top1, full.val_loss)
    assert all(torch.equal(end.weights[name], again.weights[name]) for name in end.weights)
    assert all(torch.equal(slow[name], again.state["lookahead"][name]) for name in slow)
    rows = [json.loads(line) for line in (part / "metrics.jsonl").read_text().splitlines()]
    reference = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert [[r[k] for k in _KEYS] for r in rows] == [[r[k] for k in _KEYS] for r in reference]


def test_resuming_with_lookahead_a_run_trained_without_it_is_refused(tmp_path) -> None:
    fit(tiny_config(tmp_path / "run", epochs=1), quiet=True)
    with pytest.raises(RunFolderError, match="no lookahead state.*lookahead_every=0"):
        fit(tiny_config(tmp_path / "run", epochs=2, lookahead_every=2), resume=True, quiet=True)


def test_no_host_read_per_step(tmp_path, monkeypatch) -> None:
    config = tiny_config(tmp_path / "run", lookahead_every=1, log_every_steps=0)
    run = engine.setup(config, quiet=True)
    slow = copy.deepcopy(run.lookahead.state_dict())
    calls = count_host_reads(monkeypatch)
    before = meter.host_reads()
    with run.folder:
        train_one_epoch(
            run.train_model, run.train_loader, optimizer=run.optimizer, scheduler=run.scheduler,
            epoch=0, config=config, env=run.env, show=False, ema_source=run.model, lookahead=run.lookahead,
        )  # fmt: skip
    monkeypatch.undo()
    assert meter.host_reads() - before == 1 and calls == ["tolist"], calls  # the epoch's one read
    moved = run.lookahead.state_dict()
    assert not all(torch.equal(slow[name], moved[name]) for name in slow)  # it was updated


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        (dict(lookahead_every=-1), "lookahead_every=-1"),
        (dict(lookahead_decay=1.0), "lookahead_decay=1.0"),
        (dict(lookahead_decay=-0.1), "lookahead_decay=-0.1"),
        (dict(lookahead_decay=math.nan), "lookahead_decay=nan"),
    ],
)
def test_invalid_lookahead_settings_name_the_field(changes, needle) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(**changes)
    assert needle in str(info.value)


def test_lookahead_options_on_the_command_line() -> None:
    args = build_parser().parse_args(["train", "--lookahead-every", "5", "--set", "lookahead_decay=0.5"])
    config = config_from_args(args)
    assert (config.lookahead_every, config.lookahead_decay) == (5, 0.5)
    assert TrainConfig().lookahead_every == 0 and TrainConfig().lookahead_decay == pytest.approx(0.95**5)
