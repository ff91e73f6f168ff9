"""benchmarks/se_table.py (the issue-16 table) and benchmarks/profile_se.py (the SE-tail profile)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from bench_scripts import load_script

import senet
from senet.bench.peers import reference_model


def test_train_step_trains_the_reference_resnet20() -> None:
    """The table's CIFAR reference rows: one step of the reference network (senet.bench.peers) moves it."""
    table = load_script("se_table")
    for name in ("se_resnet20_cifar", "resnet20_cifar"):
        ref = reference_model(name)
        before = [p.detach().clone() for p in ref.parameters()]
        table.train_step(ref, 2, 8, channels_last=name.startswith("se_"), bf16=False)()
        assert any(not torch.equal(a, p) for a, p in zip(before, ref.parameters(), strict=True))


def test_profile_counts_se_tails_forward_and_backward() -> None:
    profile_se = load_script("profile_se")
    torch.manual_seed(0)
    model = senet.create_model("se_resnet20_cifar").train()
    x, y = torch.randn(2, 3, 8, 8), torch.randint(0, 10, (2,))

    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()

    with profile_se.labelled_tails():
        row = profile_se.profiled(step, reps=1)
    assert row["tails"] == 9 and row["ops_per_tail"] >= 3
    assert 0 < row["tail_forward_share"] < 1 and 0 < row["tail_backward_share"] < 1
