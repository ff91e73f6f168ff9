"""Same seed, same numbers: every model case of tests/fixtures/reference_v0.json (made by the
code before issue 11's refactor) rebuilt with ``torch.manual_seed(0)`` and run on the same input
must give the same parameter sum and logits (the first 20, and their sum)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from model_checks import single_thread  # noqa: F401

import senet
from senet import SEConfig

CASES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "reference_v0.json").read_text()
)["models"]


def _parse(key: str) -> tuple[str, dict[str, Any]]:
    """``"name|k=v,k2=v2"`` -> (name, overrides); values are Python literals, an SEConfig repr or a bare string."""
    name, _, rest = key.partition("|")
    overrides: dict[str, Any] = {}
    for item in re.split(r",(?=\w+=)", rest) if rest else []:
        k, _, v = item.partition("=")
        if v.startswith("SEConfig("):
            overrides[k] = eval(v, {"SEConfig": SEConfig})  # the repr of a frozen dataclass
        else:
            try:
                overrides[k] = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                overrides[k] = v  # e.g. placement=3x3
    return name, overrides


def _input_size(name: str) -> int:
    """The side the reference was made at (see /tmp/ref/make_ref.py of issue 11)."""
    if name.endswith("_cifar") or "vgg" in name:
        return 32
    return 75 if "inception_resnet" in name else 64


def test_keys_parse() -> None:
    name, ov = _parse("se_resnet50|se_stages=(4,),stride_in_1x1=False")
    assert name == "se_resnet50" and ov == {"se_stages": (4,), "stride_in_1x1": False}
    key = next(k for k in CASES if "SEConfig" in k)
    assert _parse(key)[1]["se"] == SEConfig(reduction=8, squeeze="max", gate="tanh", bias=False)


@pytest.mark.parametrize("key", list(CASES))
def test_same_seed_same_logits(key: str) -> None:
    name, overrides = _parse(key)
    want = CASES[key]
    torch.manual_seed(0)
    model = senet.create_model(name, **overrides).eval()
    size = _input_size(name)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(x)
    param_sum = float(sum(p.detach().double().sum() for p in model.parameters()))
    assert param_sum == pytest.approx(want["param_sum"], rel=1e-5)
    assert y.flatten()[:20].tolist() == pytest.approx(want["logits"], rel=1e-5, abs=1e-6)
    assert float(y.double().sum()) == pytest.approx(want["logit_sum"], rel=1e-5, abs=1e-5)
