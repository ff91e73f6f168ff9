"""benchmarks/se_fold_batch1.py: the folded SE tail (s in W3's rows) gives the eager logits."""

from __future__ import annotations

import pytest
import torch
from bench_scripts import load_script

from senet.api import create_model
from senet.fast.blocks import FastBlock
from senet.fast.inference import optimize
from senet.fast.packed import packing_supported
from senet.layers.se import SqueezeExcite


@pytest.mark.skipif(not packing_supported(torch.float32), reason="needs oneDNN prepacked convolutions")
@pytest.mark.parametrize("gate", ["sigmoid", "tanh"])
def test_folded_tails_equal_eager_at_batch_1(gate: str) -> None:
    """The route the script times is exact: logits of the eager model within 1e-4."""
    script = load_script("se_fold_batch1")
    torch.manual_seed(0)
    model = create_model("se_resnet50").eval()
    if gate != "sigmoid":
        for module in model.modules():
            if isinstance(module, SqueezeExcite):
                module.gate = torch.nn.Tanh()  # sigma = tanh: s < 0 happens, the fold stays exact
    x = torch.randn(1, 3, 64, 64)
    fast = script.with_fold(optimize(model), 4.0, 16)  # stage 1: 256 x 16 x 16 = 4 x W3's 16K values
    folded = [b for b in fast.modules() if isinstance(b, FastBlock) and "_se_tail" in vars(b)]
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), model(x), atol=1e-4, rtol=1e-4)
    assert len(folded) == 3
