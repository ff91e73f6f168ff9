"""torch.compile of the training step (TrainConfig.compile): the fused SE op traces without a graph
break (``fullgraph=True``) and the compiled step's outputs and gradients equal eager ones (fp32 and bf16 autocast).

Inductor's C++ build takes minutes on a 2-core CI machine, so these tests compile with the
``aot_eager`` backend: Dynamo's trace and AOTAutograd's joint forward-backward graph (where a
custom autograd function breaks if it can) without generated kernels.
"""

from __future__ import annotations

import functools

import pytest
import torch
import torch.nn.functional as F
from train_fixtures import tiny_config

import senet
from senet.train import engine


def _step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool) -> tuple[torch.Tensor, list]:
    model.zero_grad(set_to_none=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(x)
    F.cross_entropy(logits.float(), y).backward()
    return logits.detach().float(), [p.grad.clone() for p in model.parameters()]


@pytest.mark.slow
@pytest.mark.parametrize(("bf16", "channels_last"), [(False, False), (True, True)])
def test_compiled_step_equals_eager(bf16: bool, channels_last: bool) -> None:
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = senet.create_model("se_resnet20_cifar").train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(4, 3, 8, 8).to(memory_format=fmt)
    y = torch.randint(0, 10, (4,))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    want_logits, want_grads = _step(model, x, y, bf16)
    model.load_state_dict(state)  # the BN running statistics of the eager step undone
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    got_logits, got_grads = _step(compiled, x, y, bf16)
    tol = {"atol": 2e-2, "rtol": 2e-2} if bf16 else {"atol": 1e-5, "rtol": 1e-4}
    torch.testing.assert_close(got_logits, want_logits, **tol)
    for got, want in zip(got_grads, want_grads, strict=True):
        scale = want.abs().max().item()
        torch.testing.assert_close(got, want, atol=tol["atol"] * max(scale, 1.0), rtol=tol["rtol"])


@pytest.mark.slow
def test_fit_with_compile_trains(tmp_path, monkeypatch) -> None:
    """``compile=True`` wraps the trained module in torch.compile; a short run finishes with finite loss."""
    torch._dynamo.reset()
    seen = []
    real = torch.compile

    def compile_cheaply(module, **kwargs):
        seen.append(module)
        return real(module, backend="aot_eager", **kwargs)

    monkeypatch.setattr(torch, "compile", functools.partial(compile_cheaply))
    config = tiny_config(tmp_path / "run", compile=True, epochs=1, channels_last=True)
    result = engine.fit(config, quiet=True)
    assert len(seen) == 1
    assert result.epochs == 1 and torch.isfinite(torch.tensor(result.val_loss))
