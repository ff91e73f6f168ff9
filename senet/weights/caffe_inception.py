"""The official SE-BN-Inception Caffe model (hujie-frank/SENet, ``SE-BN-Inception.prototxt``)
in senet's :class:`~senet.models.inception.BNInception` names.

The release's layer names (every convolution followed by ``<name>/bn`` BatchNorm and
``<name>/bn/scale`` Scale, which :func:`senet.weights.caffe.caffe_state_dict` folds):

- stem: ``conv1/7x7_s2`` (stride 2), ``conv2/3x3_reduce``, ``conv2/3x3``;
- module ``m`` of 3a .. 5b (Ioffe & Szegedy, Fig. 5): ``inception_m/1x1``,
  ``inception_m/3x3_reduce``, ``inception_m/3x3``, ``inception_m/double3x3_reduce``,
  ``inception_m/double3x3a``, ``inception_m/double3x3b``, ``inception_m/pool_proj`` (3c and 4e
  have neither ``1x1`` nor ``pool_proj``, and their ``3x3`` and ``double3x3b`` stride 2);
- SE of module ``m`` (convolutions with bias, no BN): ``inception_m_1x1_down`` (W1 of Eq. 3,
  C -> C / 16) and ``inception_m_1x1_up`` (W2, C / 16 -> C);
- the classifier ``classifier`` (InnerProduct, 1024 -> 1000).

A release without the SE layers (plain BN-Inception in the same names) converts to
``bn_inception``. The pools (no weights) are those of :mod:`senet.models.inception`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from senet.models.inception import BN_INCEPTION_MODULES, BNInceptionConfig
from senet.weights.detect import fit_se

_STEM = {
    "conv1/7x7_s2": "stem.0",
    "conv2/3x3_reduce": "stem.2",
    "conv2/3x3": "stem.3",
}
# Caffe branch layer -> the conv_norm_act inside an InceptionModule
_BRANCH = {
    "1x1": "branch1x1",
    "3x3_reduce": "branch3x3.0",
    "3x3": "branch3x3.1",
    "double3x3_reduce": "branch_double.0",
    "double3x3a": "branch_double.1",
    "double3x3b": "branch_double.2",
    "pool_proj": "branch_pool.1",
}
_SE = {"1x1_down": "se.fc1", "1x1_up": "se.fc2"}
_INDEX = {row.name: i for i, row in enumerate(BN_INCEPTION_MODULES)}
_MODULE = re.compile(r"inception_(\w\w)(?:/(\w+)|_(1x1_down|1x1_up))")
FIRST_CONV = "stem.0.0.weight"
"""The state-dict key of ``conv1/7x7_s2``'s weight (its input channels are BGR in Caffe)."""


def is_bn_inception(layer_names: Mapping[str, object]) -> bool:
    """Whether a .caffemodel's layers are (SE-)BN-Inception's (it has ``inception_3a/1x1``)."""
    return "inception_3a/1x1" in layer_names


def inception_target(name: str) -> tuple[str, str | None] | None:
    """The senet (conv, BN) prefixes of a Caffe convolution of (SE-)BN-Inception; BN is None for
    the SE layers; None for a layer that is no convolution of the network (BN, Scale, pools)."""
    if name in _STEM:
        return _STEM[name] + ".0", _STEM[name] + ".1"
    m = _MODULE.fullmatch(name)
    if m is None:
        return None
    module, branch, se = m.groups()
    if module not in _INDEX:
        raise ValueError(f"layer {name!r}: no Inception module {module!r} (Fig. 5 has {sorted(_INDEX)})")
    prefix = f"blocks.{_INDEX[module]}."
    if se is not None:
        return prefix + _SE[se], None
    if branch not in _BRANCH:
        return None  # inception_m/pool, inception_m/concat, inception_m/output ...
    return prefix + _BRANCH[branch] + ".0", prefix + _BRANCH[branch] + ".1"


def check_strides(strides: Mapping[str, int]) -> None:
    """The release strides conv1 and, in 3c and 4e, the ``3x3`` and ``double3x3b`` by 2, every
    other convolution by 1 (as senet's BNInception); ``strides`` maps a conv name to its stride."""
    wrong = []
    for name, stride in strides.items():
        m = _MODULE.fullmatch(name)
        module, branch = (m.group(1), m.group(2)) if m else ("", "")
        row = BN_INCEPTION_MODULES[_INDEX[module]] if module in _INDEX else None
        two = name == "conv1/7x7_s2" or (
            row is not None and row.stride == 2 and branch in ("3x3", "double3x3b")
        )
        if stride != (2 if two else 1):
            wrong.append(f"{name} (stride {stride})")
    if wrong:
        raise ValueError(f"convolutions strided unlike BN-Inception (Fig. 5): {wrong[:4]}")


def inception_config(state_dict: Mapping[str, torch.Tensor]) -> BNInceptionConfig:
    """The BNInceptionConfig of a converted state dict: SE width from ``se.fc1``, head from ``fc``.

    The module widths are Fig. 5's; a file with other widths fails when its tensors are loaded
    (``load_strict`` names the mis-shaped ones).
    """
    pairs = [
        (int(state_dict[key].shape[1]), int(state_dict[key].shape[0]))
        for key in (f"blocks.{i}.se.fc1.weight" for i in range(len(BN_INCEPTION_MODULES)))
        if key in state_dict
    ]
    if pairs and len(pairs) != len(BN_INCEPTION_MODULES):
        raise ValueError(f"SE layers for {len(pairs)} of the {len(BN_INCEPTION_MODULES)} Inception modules")
    num_classes, features = state_dict["fc.weight"].shape
    in_chans = int(state_dict[FIRST_CONV].shape[1])
    return BNInceptionConfig(
        se=fit_se(pairs) if pairs else None, num_classes=int(num_classes), in_chans=in_chans
    )
