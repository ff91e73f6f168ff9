"""A small, wide CIFAR network for short training budgets, with its SE twin (issue 16, not in the paper).

The layout is that of the fastest published CIFAR-10 trainer, airbench94 (Jordan 2024, "94% on
CIFAR-10 in 3.29 seconds on a single GPU", Sec. 3.1): a 2x2 stem convolution whose weights are
set from the data by patch whitening, then three conv groups, each

    conv3x3 -> max-pool 2 -> BN -> GELU -> conv3x3 -> BN -> GELU        (C_in -> C -> C)

and a global max-pool and a bias-free linear classifier whose logits are scaled down (by 1/9 in
airbench). There is no residual connection, so SE goes where the paper puts it in networks
without one (SE-VGG, SE-Inception; Sec. 3.3, Fig. 2): after the non-linearity that ends each
group, on its C channels. As in airbench94, the 3x3 convolutions start as the identity in their
first C_in filters (``dirac``), the batch norms learn only their shifts (``norm_scale``) and keep
running statistics with airbench94's momentum (``norm_momentum``), and the whitening filters stay
fixed (``frozen_stem``). ``widths`` are airbench94's in
:data:`AIRBENCH94`; the registered pair takes the narrower :data:`FASTNET` so that 13 epochs of
the CIFAR-10 development split fit the half-hour CPU budget of the ``cifar_budget`` recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.common import init_weights


@dataclass(frozen=True)
class FastNetConfig:
    """Everything that defines a :class:`FastNet`."""

    stem: int = 24
    """Output channels of the 2x2 stem; 2 x 3 x 2 x 2 = 24 holds each whitening filter and its
    negative for 3-channel input (fewer keep the strongest directions)."""
    widths: tuple[int, ...] = (48, 192, 192)
    """C of each conv group; each group halves the spatial size (31 -> 15 -> 7 -> 3 at 32 px)."""
    logit_scale: float = 1 / 9
    """Multiplier of the classifier's logits (airbench94's value)."""
    dirac: bool = True
    """Initialise the first C_in filters of every 3x3 convolution as the identity (Dirac delta),
    the others as He et al. 2015 (airbench's "dirac" initialisation)."""
    norm_scale: bool = False
    """Whether the batch norms learn their scale gamma; airbench94 keeps it at 1 (only the shift
    beta learns: train it at a higher rate with ``TrainConfig.norm_lr_scale``)."""
    norm_momentum: float = 0.4
    """Momentum of the batch norms' running statistics in PyTorch's convention (the weight of each
    batch's statistics): airbench94's 0.6, the weight it gives the running ones, is 0.4 here."""
    frozen_stem: bool = True
    """Keep the stem's whitening filters fixed (only its bias learns), as airbench94."""
    se: SEConfig | None = None
    num_classes: int = 10
    in_chans: int = 3


#: airbench94's widths (Jordan 2024): 118.1 M multiply-adds at 32 px, 1.7x those of :data:`FASTNET`.
AIRBENCH94 = FastNetConfig(widths=(64, 256, 256))
#: The registered pair (fastnet_cifar, se_fastnet_cifar): airbench94's layout at 3/4 of its widths.
FASTNET = FastNetConfig()


class ConvGroup(nn.Module):
    """conv3x3 -> max-pool 2 -> BN -> GELU -> conv3x3 -> BN -> GELU, then SE on the output (Sec. 3.3)."""

    def __init__(self, in_ch: int, out: int, se: SEConfig | None, norm_momentum: float = 0.1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out, momentum=norm_momentum)
        self.conv2 = nn.Conv2d(out, out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out, momentum=norm_momentum)
        self.act = nn.GELU()
        self.se = SqueezeExcite(out, se) if se is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.bn1(F.max_pool2d(self.conv1(x), 2)))  # (N, C, H/2, W/2)
        x = self.act(self.bn2(self.conv2(x)))  # (N, C, H/2, W/2)
        return x if self.se is None else self.se(x)


class FastNet(nn.Module):
    """The network of a :class:`FastNetConfig`; call :meth:`init_from_data` before training."""

    def __init__(self, config: FastNetConfig) -> None:
        super().__init__()
        self.config = cfg = config
        self.stem = nn.Conv2d(cfg.in_chans, cfg.stem, 2, bias=True)  # (N, stem, H - 1, W - 1)
        self.act = nn.GELU()
        groups, width = [], cfg.stem
        for out in cfg.widths:
            groups.append(ConvGroup(width, out, cfg.se, cfg.norm_momentum))
            width = out
        self.features = nn.Sequential(*groups)
        self.num_features = width
        self.fc = nn.Linear(width, cfg.num_classes, bias=False)
        init_weights(self)
        self.fc.reset_parameters()  # PyTorch's default U(+-1/sqrt(C)), as airbench94: not N(0, 0.01)
        for module in self.features.modules():
            if isinstance(module, nn.Conv2d) and module.kernel_size == (3, 3) and cfg.dirac:
                with torch.no_grad():
                    nn.init.dirac_(module.weight[: module.in_channels])  # the first C_in filters: identity
            if isinstance(module, nn.BatchNorm2d) and not cfg.norm_scale:
                module.weight.requires_grad_(False)  # gamma = 1
        self.stem.weight.requires_grad_(not cfg.frozen_stem)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(self.act(self.stem(x)))  # (N, C, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.amax(self.forward_features(x), dim=(2, 3))  # (N, C): global max-pool
        return self.fc(x) * self.config.logit_scale  # (N, num_classes)

    @torch.no_grad()
    def init_from_data(self, images: torch.Tensor, eps: float = 5e-4) -> None:
        """Set the stem to whiten 2x2 patches of ``images`` (N, C, H, W), normalised training
        images: the eigenvectors v_i of the patches' covariance scaled by 1 / sqrt(lambda_i + eps),
        strongest first, each followed by its negative (airbench94); the bias is zeroed."""
        k = self.stem.kernel_size[0]
        patches = (
            F.unfold(images.float(), k).transpose(1, 2).reshape(-1, images.shape[1] * k * k)
        )  # (P, C k k)
        patches = patches - patches.mean(0)
        cov = patches.T @ patches / max(patches.shape[0] - 1, 1)  # (C k k, C k k)
        eigvals, eigvecs = torch.linalg.eigh(cov.double())  # ascending
        filters = (eigvecs / (eigvals.clamp_min(0) + eps).sqrt()).T.flip(0).float()  # strongest first
        filters = torch.stack([filters, -filters], 1).flatten(0, 1)  # (2 C k k, C k k): v_1, -v_1, ...
        out = self.stem.out_channels
        if out > filters.shape[0]:
            raise ValueError(f"a {out}-channel stem needs at most {filters.shape[0]} whitening filters")
        weight = filters[:out].view_as(self.stem.weight)
        self.stem.weight.copy_(weight.to(self.stem.weight))
        self.stem.bias.zero_()
