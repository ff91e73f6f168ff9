"""benchmarks/se_table.py (the issue-16 table) and benchmarks/profile_se.py (the SE-tail profile)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from bench_scripts import load_script

import senet
from senet.layers.se import SqueezeExcite


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_reference_resnet20_has_senet_shapes_and_trains() -> None:
    """The plain-PyTorch reference is the same network as senet's (same parameter count), SE or not."""
    table = load_script("se_table")
    for se, name in ((True, "se_resnet20_cifar"), (False, "resnet20_cifar")):
        ref = table.RefResNet20(se)
        assert _params(ref) == _params(senet.create_model(name))
        before = [p.detach().clone() for p in ref.parameters()]
        table.train_step(ref, 2, 8, channels_last=se, bf16=False)()
        assert any(not torch.equal(a, p) for a, p in zip(before, ref.parameters(), strict=True))


def test_reference_se_equals_senet_excitation() -> None:
    table = load_script("se_table")
    ref = table.RefSE(32)
    se = SqueezeExcite(32)
    se.load_state_dict(
        {k.replace("fc.0", "fc1").replace("fc.2", "fc2"): v for k, v in ref.state_dict().items()}
    )
    x = torch.randn(2, 32, 5, 5)
    torch.testing.assert_close(ref(x), se(x))


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
