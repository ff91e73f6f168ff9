"""The prepared GPU check behind ``benchmarks/cuda_check.py`` (issue 17), split by concern.

- :mod:`.common`: a check's record (ok / failed / skipped with a reason), versions, JSON.
- :mod:`.main`: the command line; runs each stage in a child process with its own time limit.
- :mod:`.stage_tests`: the suite's CUDA-marked tests (``pytest -m cuda``), with a JUnit summary.
- :mod:`.stage_train`: ``senet train`` runs of a CIFAR-size SE-ResNet (bf16, fp16 + scaler,
  ``--compile``, ``torchrun`` with nccl and SyncBatchNorm).
- :mod:`.stage_timing`: senet against timm, interleaved on one card (inference and training).
- :mod:`.detector`: torchvision's Faster R-CNN on an SE-ResNet-50 FPN trunk (Sec. 6.2).

Named ``cudacheck``, not ``cuda``: NVIDIA's Python bindings install a top-level ``cuda`` package.
"""
