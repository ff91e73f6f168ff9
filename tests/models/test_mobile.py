"""MobileNet 1.0-224 and ShuffleNet 1x (g = 3) with their SE twins (Table 3)."""

import pytest
import torch
from model_checks import forward_backward, names_in, single_thread  # noqa: F401

import senet
from senet.complexity import complexity
from senet.models.mobile import ShuffleUnit, channel_shuffle

# exact (params, multiply-adds) at 224
COUNTS = {
    "mobilenet_v1": (4_231_976, 568_740_352),
    "se_mobilenet_v1": (4_718_044, 574_639_104),
    "shufflenet_v1_g3": (1_865_728, 137_460_672),
    "se_shufflenet_v1_g3": (2_484_533, 141_279_216),
}
# Table 3 (MFLOPs, params in M) where this convention reaches it; docs/models.md lists the rest
PRINTED = {"mobilenet_v1": (569, 4.2), "se_mobilenet_v1": (None, 4.7)}


def test_registered_names() -> None:
    assert names_in("senet.models.mobile") == sorted(COUNTS)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_complexity(name: str) -> None:
    c = complexity(name)
    assert (c.params, c.macs) == COUNTS[name]
    mflops, mparams = PRINTED.get(name, (None, None))
    if mflops is not None:
        assert round(c.macs / 1e6) == mflops
    if mparams is not None:
        assert round(c.params / 1e6, 1) == mparams  # Table 3 rounds to nearest


def test_channel_shuffle_interleaves_groups() -> None:
    x = torch.arange(6.0).view(1, 6, 1, 1)
    assert channel_shuffle(x, 3).flatten().tolist() == [0, 2, 4, 1, 3, 5]


def test_shufflenet_units_and_se_on_the_branch() -> None:
    model = senet.create_model("se_shufflenet_v1_g3")
    units = [m for m in model.modules() if isinstance(m, ShuffleUnit)]
    assert len(units) == 16
    assert [u.se.channels for u in units if u.pool is not None] == [216, 240, 480]  # C - C_in
    assert units[0].conv1[0].groups == 1 and units[1].conv1[0].groups == 3
    model = senet.create_model("se_mobilenet_v1")
    assert [b[-1].channels for b in model.features[1:]][:3] == [64, 128, 128]


def test_other_sizes_and_bad_widths() -> None:
    model = senet.create_model("shufflenet_v1_g3", num_classes=2, in_chans=1).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 96, 128)).shape == (1, 2)
    with pytest.raises(ValueError, match="not a positive multiple of g = 3"):
        senet.create_model("shufflenet_v1_g3", stages=(senet.models.mobile.ShuffleStage(2, 250),))
