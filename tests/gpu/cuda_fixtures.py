"""Devices and precisions shared by the CUDA checks in tests/gpu: each test runs on the CPU here
and on CUDA where a GPU is present (the ``cuda`` marker; ``pytest -m cuda`` runs only those).

``benchmarks/cuda_check.py`` runs ``pytest -m cuda`` on a GPU machine; on a CPU-only machine the
CUDA cases skip and the CPU cases exercise the same assertions. (The folder is not named
``cuda``: on ``sys.path`` it would merge into NVIDIA's ``cuda`` namespace package.)
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager

import pytest
import torch

# cuBLAS reads this when its first handle is made: before any test touches the GPU, so that the
# deterministic training runs of test_cuda_train.py get reproducible matrix products.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

HAS_CUDA = torch.cuda.is_available()
NEEDS_CUDA = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")

#: The CUDA case of a device parameter: marked ``cuda`` and skipped without a GPU.
CUDA = pytest.param("cuda", marks=[pytest.mark.cuda, NEEDS_CUDA], id="cuda")
DEVICES = ["cpu", CUDA]

#: Autocast dtypes by name; fp32 is autocast off.
PRECISIONS: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def on(device: str, precision: str) -> str:
    """Skip the CPU + fp16 case (the gradient scaler and fp16 kernels are the GPU's)."""
    if device == "cpu" and precision == "fp16":
        pytest.skip("fp16 autocast is a CUDA setting (senet train refuses amp=fp16 on the CPU)")
    return device


def autocast(device: str, precision: str) -> AbstractContextManager[None]:
    """``torch.autocast`` in ``precision`` on ``device``'s type (off for fp32)."""
    dtype = PRECISIONS[precision]
    return torch.autocast(torch.device(device).type, dtype=dtype, enabled=dtype != torch.float32)
