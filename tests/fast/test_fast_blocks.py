"""FastBlock: every route of the standard-placement SE tail equals the eager block."""

from __future__ import annotations

import pytest
import torch
from fast_fixtures import randomize_bn
from torch import nn

from senet.fast.blocks import FastBlock, is_post_activation_block
from senet.fast.fold import fold_batch_norms
from senet.fast.inference import has_cxx_compiler
from senet.fast.packed import pack_convolutions, packing_supported
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.blocks import BasicBlock, Bottleneck
from senet.models.cifar import PreActBlock


def _fast(block: nn.Module, prepack: bool) -> FastBlock:
    fold_batch_norms(block, pairs_in=is_post_activation_block)
    fast = FastBlock(block).to(memory_format=torch.channels_last)
    if prepack:
        pack_convolutions(fast, skip=(SqueezeExcite,))
    return fast


@pytest.mark.parametrize("prepack", [False, True] if packing_supported(torch.float32) else [False])
@pytest.mark.parametrize(
    ("batch", "size", "channels"),
    [(2, 16, 64), (1, 2, 256)],  # large maps: squeeze before W3 (+ divide); tiny map, wide C: pool u
)
@pytest.mark.parametrize("gate", ["sigmoid", "tanh"])
@pytest.mark.parametrize("per_sample_min", [FastBlock.per_sample_min, 0])  # 0: sample by sample
def test_bottleneck_routes_equal_eager(
    prepack: bool, batch: int, size: int, channels: int, gate: str, per_sample_min: int, monkeypatch
) -> None:
    monkeypatch.setattr(FastBlock, "per_sample_min", per_sample_min)
    torch.manual_seed(0)
    block = randomize_bn(
        Bottleneck(channels, channels, mid=channels // 4, se=SEConfig(reduction=4, gate=gate))
    )
    block.eval()
    x = torch.randn(batch, channels, size, size)
    with torch.no_grad():
        ref = block(x)
        fast = _fast(block, prepack)
        assert fast.pool_before_last and fast.divide == (gate == "sigmoid")
        got = fast(x.to(memory_format=torch.channels_last).clone())
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


def test_fast_block_refuses_unfolded_and_preact_blocks() -> None:
    with pytest.raises(ValueError, match="folded"):
        FastBlock(BasicBlock(8, 8, se=SEConfig(reduction=4)))
    preact = PreActBlock(8, 8, mid=8, se=SEConfig(reduction=4))
    assert not is_post_activation_block(preact)
    with pytest.raises(TypeError, match="PreActBlock"):
        FastBlock(preact)


needs_compiler = pytest.mark.skipif(not has_cxx_compiler(), reason="torch.compile needs a C++ compiler")


@needs_compiler
@pytest.mark.parametrize("gate", ["sigmoid", "tanh"])
def test_bottleneck_compiles_in_one_graph(gate: str) -> None:
    """The unpacked SE tail (what optimize(compile=True) runs) traces without a graph break."""
    torch.manual_seed(0)
    block = randomize_bn(Bottleneck(64, 64, mid=16, se=SEConfig(reduction=4, gate=gate))).eval()
    x = torch.randn(2, 64, 8, 8)
    with torch.no_grad():
        ref = block(x)
        fast = _fast(block, prepack=False)
        got = torch.compile(fast, fullgraph=True, dynamic=False)(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("gate", ["sigmoid", "tanh", "relu"])
def test_bottleneck_bf16_tail_within_tolerance(gate: str) -> None:
    """The bf16 fast block (unpacked here without native bf16) stays within bf16 rounding of fp32 eager."""
    torch.manual_seed(0)
    block = randomize_bn(Bottleneck(64, 64, mid=16, se=SEConfig(reduction=4, gate=gate))).eval()
    x = torch.randn(2, 64, 8, 8)
    with torch.no_grad():
        ref = block(x)
        fast = _fast(block, prepack=packing_supported(torch.bfloat16)).to(torch.bfloat16)
        got = fast(x.to(dtype=torch.bfloat16, memory_format=torch.channels_last)).float()
    assert fast.pool_before_last
    torch.testing.assert_close(got, ref, atol=0.05, rtol=0.02)


def test_known_gates_run_in_place_on_the_pre_activation() -> None:
    """sigma of a known gate is applied in place (no module call); s is still the eager block's."""
    torch.manual_seed(0)
    block = randomize_bn(Bottleneck(64, 64, mid=16, se=SEConfig(reduction=4))).eval()
    fast = _fast(block, prepack=False)
    calls = []
    fast.se.gate.register_forward_hook(lambda *args: calls.append(1))
    y = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        s = fast._excitation_from_input(y)
        assert not calls
        ref = block.se.excitation(block.conv3(y)).flatten(1)
    torch.testing.assert_close(s, ref, atol=1e-5, rtol=1e-5)
