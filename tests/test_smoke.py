import torch

import senet


def test_se_resnet50_forward_shape() -> None:
    model = senet.create_model("se_resnet50", num_classes=7).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 7)
