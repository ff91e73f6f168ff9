"""Multi-scale features at strides 4, 8, 16, 32 with their channel counts."""

from __future__ import annotations

import pytest
import torch

from senet.api import create_feature_extractor, create_model
from senet.weights.features import FeatureExtractor


def test_feature_shapes_strides_and_channels() -> None:
    model = create_model("se_resnet18").eval()
    extractor = FeatureExtractor(model).eval()
    assert extractor.strides == [4, 8, 16, 32] and extractor.out_channels == [64, 128, 256, 512]
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        feats = extractor(x)
        assert list(feats) == ["layer1", "layer2", "layer3", "layer4"]
        for (name, f), c, s in zip(feats.items(), extractor.out_channels, extractor.strides, strict=True):
            assert f.shape == (2, c, 64 // s, 96 // s), name
        torch.testing.assert_close(feats["layer4"], model.forward_features(x))  # shares the weights


def test_bottleneck_channels_and_subsets() -> None:
    with torch.device("meta"):
        extractor = create_feature_extractor("se_resnext50_32x4d", stages=("layer2", "layer4"))
    assert extractor.out_channels == [512, 2048] and extractor.strides == [8, 32]
    assert list(
        FeatureExtractor(create_model("resnet18"), stages=("layer1",), names=("0",))(
            torch.randn(1, 3, 32, 32)
        )
    ) == ["0"]
    with pytest.raises(ValueError, match="subset"):
        FeatureExtractor(create_model("resnet18"), stages=("layer5",))
