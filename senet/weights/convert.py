"""One entry point per direction: foreign file -> :class:`Converted` -> model or safetensors file.

Nothing here builds a registered model by name: :func:`senet.api.create_model` does that and
hands the model or the state dict to :func:`read_weights_file`, :func:`load_state_dict_into`
and :func:`build_converted`.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from senet.errors import SenetError
from senet.models.common import replace_config
from senet.models.inception import BNInception, BNInceptionConfig
from senet.models.resnet import ResNet, ResNetConfig
from senet.weights.cadene import from_cadene
from senet.weights.caffe import from_caffe, is_caffemodel, read_synsets
from senet.weights.checkpoint import config_from_json, save_weights_file
from senet.weights.detect import (
    detect_layout,
    has_cadene_keys,
    has_timm_se_widths,
    match_model_name,
    stride_is_ambiguous,
)
from senet.weights.preprocessing import Preprocessing
from senet.weights.safe_load import load_state_dict_file
from senet.weights.timm import from_timm

Source = Literal["timm", "cadene", "caffe", "auto"]
SOURCES = ("timm", "cadene", "caffe")
FileLayout = Literal["auto", "senet", "timm", "cadene", "caffe"]
"""How :func:`read_weights_file` reads a file: detect (``auto``), or the caller's statement."""


class AmbiguousLayoutError(SenetError):
    """A state dict whose layout decides the network but cannot be read off its tensors."""


@dataclass
class Converted:
    """Weights in senet names with the configuration that reproduces the source network."""

    state_dict: dict[str, torch.Tensor]
    config: ResNetConfig | BNInceptionConfig
    model_name: str | None
    preprocessing: Preprocessing | None
    source: str

    def build(self, **overrides: Any) -> ResNet | BNInception:
        """The network with these weights loaded (strict), in eval mode."""
        model: ResNet | BNInception
        if isinstance(self.config, BNInceptionConfig):
            model = BNInception(replace_config(self.config, overrides, "BN-Inception"))
        else:
            model = ResNet(self.config.replace(**overrides) if overrides else self.config)
        load_strict(model, self.state_dict)
        return model.eval()

    def save(self, path: str | Path) -> Path:
        """Write a senet safetensors checkpoint (config and preprocessing in its metadata)."""
        prep = None if self.preprocessing is None else self.preprocessing.to_dict()
        return save_weights_file(
            path,
            self.state_dict,
            config=self.config,
            model_name=self.model_name,
            preprocessing=prep,
            source=self.source,
        )


def load_strict(model: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> None:
    """``load_state_dict(strict=True)`` with an error that lists what is missing / unexpected / mis-shaped."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [f"{k}: file {list(state_dict[k].shape)} vs model {list(own[k].shape)}"
              for k in own if k in state_dict and own[k].shape != state_dict[k].shape]  # fmt: skip
    if missing or unexpected or shapes:
        raise ValueError(
            f"weights do not fit the model: missing {missing[:5]} ({len(missing)}), "
            f"unexpected {unexpected[:5]} ({len(unexpected)}), shape mismatches {shapes[:3]}"
        )
    model.load_state_dict(state_dict, strict=True)


def convert_state_dict(state_dict: dict[str, torch.Tensor], source: Source = "auto") -> Converted:
    """Map a timm or Cadene state dict onto senet (``auto``: decide by key names)."""
    detected = detect_layout(state_dict)
    layout = detected if source == "auto" else source
    if layout != detected:
        raise ValueError(
            f"the checkpoint's keys are in the {detected} layout, not {layout} (first key {next(iter(state_dict))!r})"
        )
    if layout == "timm":
        sd, config = from_timm(state_dict)
    elif layout == "cadene":
        sd, config = from_cadene(state_dict)
    else:
        raise ValueError(f"unknown state-dict layout {layout!r}; choose 'timm' or 'cadene'")
    return Converted(sd, config, match_model_name(config), None, layout)


def convert_file(
    path: str | Path, *, source: Source = "auto", synsets: str | Path | None = None
) -> Converted:
    """Read and convert a checkpoint: ``caffe`` (.caffemodel), ``timm``, ``cadene`` or ``auto``."""
    path = Path(path)
    if source == "caffe" or (source == "auto" and is_caffemodel(path)):
        wnids = read_synsets(synsets) if synsets is not None else None
        sd, config, prep = from_caffe(path, synsets=wnids)
        return Converted(sd, config, match_model_name(config), prep, "caffe")
    if synsets is not None:
        raise ValueError("--synsets applies to Caffe models only (timm and Cadene use sorted-WNID order)")
    state_dict, metadata = load_state_dict_file(path)
    if "senet.config" in metadata and source == "auto":
        return from_senet_file(state_dict, metadata)
    return convert_state_dict(state_dict, source)


def from_senet_file(state_dict: dict[str, torch.Tensor], metadata: dict[str, str]) -> Converted:
    """A checkpoint written by :meth:`Converted.save` (config in its metadata)."""
    config = config_from_json(metadata["senet.config"], source=metadata.get("senet.source", ""))
    prep_raw = json.loads(metadata.get("senet.preprocessing") or "{}")
    prep = Preprocessing.from_dict(prep_raw) if prep_raw else None
    return Converted(
        state_dict, config, metadata.get("senet.model") or None, prep, metadata.get("senet.source", "")
    )


def read_weights_file(
    path: str | Path, *, layout: FileLayout = "auto", target: ResNetConfig | None = None
) -> tuple[dict[str, torch.Tensor], Converted | None]:
    """The state dict of ``path`` and, when the file fixes its own network, that network as a
    :class:`Converted`; None for a state dict in senet names, which loads into the registered
    model ``target`` (:func:`load_state_dict_into`).

    ``layout="auto"`` tells the file apart: a senet checkpoint (config in its metadata, which
    wins over the registered one), a ``.caffemodel``, Cadene / timm-legacy key names, or timm's
    SE widths (:func:`has_timm_se_widths`) are converted; a bottleneck state dict in torchvision
    names whose stride placement would change the network (:func:`stride_is_ambiguous`) raises
    :class:`AmbiguousLayoutError`. Any other ``layout`` is the caller's statement: ``"senet"``
    loads the tensors into ``target`` as they are; ``"timm"``, ``"cadene"``, ``"caffe"`` convert.
    """
    if layout == "caffe" or (layout == "auto" and is_caffemodel(path)):
        converted = convert_file(path, source="caffe")
        return converted.state_dict, converted
    state_dict, metadata = load_state_dict_file(path)
    if "senet.config" in metadata:
        if layout not in ("auto", "senet"):
            raise ValueError(
                f"{path} is a senet checkpoint (its config is in its metadata), not a {layout} file"
            )
        return state_dict, from_senet_file(state_dict, metadata)
    if layout in ("timm", "cadene"):
        return state_dict, convert_state_dict(state_dict, layout)
    if layout == "senet":
        return state_dict, None
    if has_cadene_keys(state_dict):
        return state_dict, convert_state_dict(state_dict, "cadene")
    own_rounding = target is not None and target.se is not None and target.se.divisor == 8
    if has_timm_se_widths(state_dict) and not own_rounding:
        return state_dict, convert_state_dict(state_dict, "timm")
    if stride_is_ambiguous(state_dict, target):
        raise AmbiguousLayoutError(_ambiguous_message(Path(path)))
    return state_dict, None


def _ambiguous_message(path: Path) -> str:
    """The refusal of :func:`read_weights_file`: the file, both readings, the command to convert."""
    out = path.with_name(path.stem + ("-timm" if path.suffix == ".safetensors" else "") + ".safetensors")
    return (
        f"{path}: cannot tell this file's layout from its tensors. It holds bottleneck blocks in "
        f"torchvision key names without senet metadata, which is either a timm / torchvision "
        f"checkpoint (stride on the 3x3 convolution) or a state dict saved from a senet model "
        f"(stride on the first 1x1, as the registered model): the same tensors, different networks "
        f"and outputs. If it comes from timm or torchvision, convert it once:\n"
        f"    senet convert --from timm {shlex.quote(str(path))} --to {shlex.quote(str(out))}\n"
        f"and load {out}; if it is senet's own state dict, say so with layout='senet' "
        f"(or give stride_in_1x1=...)."
    )


def load_state_dict_into(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """``model`` with ``state_dict`` loaded strictly (see :func:`load_strict`), in eval mode."""
    load_strict(model, state_dict)
    return model.eval()


def build_converted(
    converted: Converted, name: str, path: str | Path, **overrides: Any
) -> ResNet | BNInception:
    """The network of ``converted`` (read from ``path``) for the registered name ``name``, with
    its preprocessing attached; a file made for another registered model is an error."""
    if converted.model_name not in (None, name):
        raise ValueError(f"{path} holds weights for {converted.model_name!r}, not {name!r}")
    model = converted.build(**overrides)
    model.preprocessing = converted.preprocessing  # type: ignore[attr-defined]
    return model
