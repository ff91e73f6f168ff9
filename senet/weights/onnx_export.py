"""ONNX export through ``torch.export`` (torch's current exporter) and its check against eager.

The graph takes ``input`` (N, C, H, W) with named dynamic dims ``batch``, ``height`` and
``width`` and returns ``logits`` (N, num_classes). Weights live inside the one ``.onnx`` file
unless ``external_data`` is asked for (then beside it as ``<file>.data``). ``metadata`` (a plain
str -> str mapping: preprocessing, labels ...) goes into the model's ``metadata_props``; the
caller chooses the keys (``senet export`` writes ``senet.*``, see :func:`preprocessing_metadata`).

onnx, onnxscript and onnxruntime are optional dependencies, imported only here and only when
used. The TorchScript-based exporter (deprecated by torch) stays available as ``dynamo=False``.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from senet.weights.preprocessing import Preprocessing

INPUT, OUTPUT = "input", "logits"
AXES = {0: "batch", 2: "height", 3: "width"}  # dims of ``input`` (N, C, H, W) that stay free
LEGACY_OPSET = 17
CHECK_RTOL = 1e-4
"""Default tolerance of :func:`check_onnx`, relative to the logit scale max(1, max |eager logit|).

float32 kernels that sum in a different order (onnxruntime's MLAS vs ATen) differ by about 1e-6
of the logit scale (measured: 2e-8 to 2e-7 absolute on logits of scale 0.1 to 0.3, SE-ResNet-20
CIFAR and SE-ResNet-18); a real export error (a wrong op, padding or layout) moves logits by a
sizeable fraction of the scale. 1e-4 leaves two orders of magnitude of margin on either side.
The floor of 1 keeps random-init models (logits near 0) from demanding sub-ulp agreement."""


_NOISY_LOGGERS = ("torch.onnx._internal.exporter._registration", "torch.fx.experimental.symbolic_shapes")


def _require(module: str, why: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"{why} needs the {module!r} package: pip install {module} (or senet[dev])")


@contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence notices that do not concern the result: the exporter's (torchvision ops senet does
    not use, pytree deprecations) and the symbolic-shape solver's tracebacks when it cannot
    simplify a ceil-mode max-pool's size guard (the export succeeds and matches eager at other
    sizes). Errors still propagate."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def export_onnx(
    model: nn.Module,
    out: str | Path,
    x: torch.Tensor,
    *,
    dynamo: bool = True,
    opset: int | None = None,
    external_data: bool = False,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write ``model`` called on example ``x`` (N >= 2, so that no dim specialises to 1) to ``out``.

    ``dynamo=True``: ``torch.onnx.export(..., dynamo=True)`` with the axes named batch / height /
    width in ``dynamic_shapes`` (opset: torch's default). ``dynamo=False``: the TorchScript-based
    exporter with the same names as ``dynamic_axes`` (opset 17 unless given).
    """
    out = Path(out)
    if external_data:  # both writers append to an existing data file
        out.with_name(out.name + ".data").unlink(missing_ok=True)
    with _quiet_exporter():
        if dynamo:
            _require("onnxscript", "ONNX export with torch's dynamo exporter (or use the legacy exporter)")
            # Named axes: torch exports each as Dim.DYNAMIC (relations such as ceil-mode pooling's
            # are derived, not refused as with a strict Dim) and gives the ONNX dim that name.
            program = torch.onnx.export(model, (x,), None, input_names=[INPUT], output_names=[OUTPUT],
                                        dynamic_shapes=(dict(AXES),), opset_version=opset, dynamo=True,
                                        verbose=False)  # fmt: skip
            program.model.metadata_props.update(dict(metadata or {}))
            program.save(str(out), external_data=external_data)
            return out
        axes = {INPUT: AXES, OUTPUT: {0: AXES[0]}}
        torch.onnx.export(model, (x,), str(out), input_names=[INPUT], output_names=[OUTPUT],
                          dynamic_axes=axes, opset_version=opset or LEGACY_OPSET, dynamo=False)  # fmt: skip
    if metadata or external_data:
        _rewrite(out, metadata or {}, external_data)
    return out


def _rewrite(path: Path, metadata: Mapping[str, str], external_data: bool) -> None:
    """Add ``metadata`` to a written model's ``metadata_props``; move its weights beside it."""
    _require("onnx", "ONNX metadata or external data with the legacy exporter")
    import onnx

    proto = onnx.load(str(path))
    onnx.helper.set_model_props(proto, {**{p.key: p.value for p in proto.metadata_props}, **metadata})
    onnx.save(proto, str(path), save_as_external_data=external_data, location=path.name + ".data")


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file (its weights are not read)."""
    _require("onnx", "reading ONNX metadata")
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}


def preprocessing_metadata(prep: Preprocessing, *, prefix: str = "senet.") -> dict[str, str]:
    """``prep`` as ``metadata_props`` strings: mean / std as comma-separated floats (full repr)."""
    return {
        prefix + "mean": ",".join(repr(float(v)) for v in prep.mean),
        prefix + "std": ",".join(repr(float(v)) for v in prep.std),
        prefix + "crop_fraction": repr(float(prep.crop_fraction)),
        prefix + "interpolation": prep.interpolation,
        prefix + "label_order": prep.label_order,
    }


@dataclass(frozen=True)
class OnnxCheck:
    """onnxruntime against eager PyTorch on one random input."""

    shape: tuple[int, ...]
    """The input's (N, C, H, W)."""
    max_abs_diff: float
    """max |onnxruntime - eager| over every logit."""
    scale: float
    """The logit scale max(1, max |eager logit|) that the tolerance is relative to."""
    rtol: float
    """The allowed ``max_abs_diff / scale``."""

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.rtol * self.scale

    def __str__(self) -> str:
        shape = "x".join(map(str, self.shape))
        verdict = "ok" if self.ok else "FAILED"
        return (f"input {shape}: max |onnxruntime - eager| = {self.max_abs_diff:.3g} "
                f"(tolerance {self.rtol:g} x {self.scale:.3g}) {verdict}")  # fmt: skip


def check_shapes(input_size: int, in_chans: int = 3) -> list[tuple[int, int, int, int]]:
    """The export size at batch 2, then a larger non-square size at batch 1 (dynamic H, W and N)."""
    s = input_size
    return [(2, in_chans, s, s), (1, in_chans, s + s // 2, s + s // 4)]


@torch.no_grad()
def check_onnx(
    path: str | Path, model: nn.Module, shapes: Sequence[tuple[int, ...]], *, rtol: float = CHECK_RTOL
) -> list[OnnxCheck]:
    """Run the ONNX file on onnxruntime (CPU) and ``model`` in eval mode on the same random inputs."""
    _require("onnxruntime", "checking an ONNX export")
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = model.eval()
    gen = torch.Generator().manual_seed(0)
    results = []
    for shape in shapes:
        x = torch.randn(*shape, generator=gen)
        want = model(x).float().numpy()  # (N, num_classes)
        (got,) = session.run([OUTPUT], {INPUT: x.numpy()})
        if got.shape != want.shape:
            raise ValueError(
                f"onnxruntime gave logits of shape {got.shape} for input {shape}, eager {want.shape}"
            )
        diff = float(np.abs(got - want).max())
        results.append(OnnxCheck(tuple(shape), diff, max(1.0, float(np.abs(want).max())), rtol))
    return results
