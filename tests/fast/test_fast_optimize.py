"""senet.optimize: fp32 logits equal eager within 1e-4, bf16 agrees on top-1, input untouched."""

from __future__ import annotations

import pytest
import torch
from fast_fixtures import make
from torch import nn

import senet
from senet.fast.blocks import FastBlock, is_post_activation_block
from senet.fast.inference import Frozen, has_cxx_compiler
from senet.fast.packed import packing_supported
from senet.models.blocks import PLACEMENTS

ATOL = 1e-4


def _check_fp32(model: nn.Module, size: int, batch: int = 2) -> torch.Tensor:
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model(x)
        got = senet.optimize(model)(x)
    assert got.dtype == torch.float32 and got.shape == ref.shape
    assert (got - ref).abs().max().item() <= ATOL, f"max |diff| {(got - ref).abs().max().item():.2e}"
    return ref


@pytest.mark.parametrize("name", ["resnet50", "se_resnet50"])
def test_fp32_logits_equal_eager_resnet50(name: str) -> None:
    model = make(name)
    ref = _check_fp32(model, 64)
    assert ref.abs().max() > 1.0  # the check is not vacuous: logits are not all ~0


@pytest.mark.slow
@pytest.mark.parametrize("placement", [p for p in PLACEMENTS if p != "standard"])
def test_fp32_logits_equal_eager_placements(placement: str) -> None:
    _check_fp32(make("se_resnet50", placement=placement), 64, batch=1)


@pytest.mark.parametrize("name", ["se_resnet18", "se_resnet20_cifar"])
def test_fp32_logits_equal_eager_families(name: str) -> None:
    _check_fp32(make(name), 32)


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_fp32_logits_equal_eager_placements_basic_blocks(placement: str) -> None:
    _check_fp32(make("se_resnet20_cifar", placement=placement), 32)


def test_unpacked_path_and_input_untouched() -> None:
    model = make("se_resnet18")
    x = torch.randn(2, 3, 32, 32).to(memory_format=torch.channels_last)  # .to() in forward is a no-op
    before = x.clone()
    with torch.no_grad():
        ref = model(x)
        for prepack in (False, True):
            got = senet.optimize(model, prepack=prepack)(x)
            assert (got - ref).abs().max().item() <= ATOL
    assert torch.equal(x, before)  # in-place ops stay inside the network


def test_preact_blocks_are_left_alone_and_stay_exact() -> None:
    from senet.models.cifar import wide_stages

    model = make("se_wrn16_8_cifar", stages=wide_stages(10, 1))
    fast = senet.optimize(model)
    assert not any(isinstance(m, FastBlock) for m in fast.modules())  # pre-activation: BN before conv
    assert not any(is_post_activation_block(m) for m in model.modules())
    _check_fp32(model, 32)


def test_optimized_structure() -> None:
    fast = senet.optimize(make("se_resnet50"))
    blocks = [m for m in fast.modules() if isinstance(m, FastBlock)]
    assert len(blocks) == 16 and all(b.pool_before_last for b in blocks)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert not any(p.requires_grad for p in fast.parameters())
    conv = next(m for m in fast.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_original_model_is_unchanged() -> None:
    model = make("se_resnet18")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    types = [type(m) for m in model.modules()]
    senet.optimize(model, dtype=torch.bfloat16)
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert [type(m) for m in model.modules()] == types
    assert all(p.requires_grad and p.dtype == torch.float32 for p in model.parameters())
    model.train()
    senet.optimize(model)
    assert model.training  # optimize works on a copy: the caller's mode is kept


def test_bf16_runs_and_agrees_on_top1() -> None:
    model = make("se_resnet50")
    x = torch.randn(12, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = model(x).argmax(1)
        got = senet.optimize(model, dtype=torch.bfloat16)(x)
    assert got.dtype == torch.float32
    agreement = (got.argmax(1) == ref).float().mean().item()
    assert agreement >= 0.75, f"bf16 top-1 agreement {agreement:.2f}"


def test_bad_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="float16"):
        senet.optimize(make("resnet18"), dtype=torch.float16)


@pytest.mark.skipif(not has_cxx_compiler(), reason="needs a C++ compiler")
def test_compiled_logits_equal_eager() -> None:
    """optimize(compile=True): Inductor with freezing (prepacked oneDNN convolutions), same logits."""
    model = make("se_resnet20_cifar")
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    compiled = senet.optimize(model, compile=True)
    with torch.no_grad():
        ref = model(x)
        got = compiled(x)
        with torch.profiler.profile() as prof:
            compiled(x)
    assert (got - ref).abs().max().item() <= ATOL
    if packing_supported(torch.float32):  # freezing took effect: weights are constants, prepacked
        assert any(e.key.startswith("mkldnn::_convolution_pointwise") for e in prof.key_averages())


def test_compile_without_a_compiler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import senet.fast.inference as inference

    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(inference.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="needs a C\\+\\+ compiler"):
        senet.optimize(make("se_resnet20_cifar"), compile=True)


@pytest.mark.skipif(not has_cxx_compiler(), reason="needs a C++ compiler")
def test_every_compiled_model_stays_compiled() -> None:
    """Dynamo's cache is per code object and stops at 8 entries; each Frozen has its own, so the
    tenth optimised model of one class is still compiled and frozen (not silently eager)."""
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        for seed in range(10):
            torch.manual_seed(seed)
            model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()).eval()
            frozen = Frozen(model)
            frozen(x)
            with torch.profiler.profile() as prof:
                got = frozen(x)
            torch.testing.assert_close(got, model(x))
    keys = {e.key for e in prof.key_averages()}
    if packing_supported(torch.float32):  # frozen: the tenth model's convolution is prepacked
        assert any(k.startswith("mkldnn::_convolution_pointwise") for k in keys), sorted(keys)
