"""The device check of issue 17: CUDA tests, training, timings against timm, a detector, in <= 6 min.

    python benchmarks/cuda_check.py --out cuda-check              # on a CUDA machine
    python benchmarks/cuda_check.py --out /tmp/dry --dry-run      # every stage, tiny, on the CPU
    make cuda-check OUT=cuda-check

Writes ``OUT/results.json`` (environment, each stage's checks: ok / failed / skipped with a
reason, timings) and ``OUT/check.log``. The code is the package ``benchmarks/cudacheck``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/: the cudacheck package
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: senet without an install

from cudacheck.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
