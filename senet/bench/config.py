"""What ``senet bench`` measures: one frozen dataclass whose fields are the command's options.

Every field is one option of ``senet bench`` (``image_size`` is ``--image-size``; ``models`` is
the positional list), so the command line is read into a config and written back from one
generically (:mod:`senet.commands.bench`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from senet.bench.timing import Clock

Mode = Literal["latency", "throughput", "train"]
DType = Literal["fp32", "bf16"]
Device = Literal["auto", "cpu", "cuda"]
Variant = Literal["eager", "optimized", "compiled"]  # the model as built; senet.optimize; compile=True
Peer = Literal["reference", "timm"]  # senet.bench.peers

MODES: tuple[Mode, ...] = get_args(Mode)
DTYPE_NAMES: tuple[DType, ...] = get_args(DType)  # keys of senet.fast.inference.DTYPES
PEERS: tuple[Peer, ...] = get_args(Peer)


@dataclass(frozen=True)
class BenchConfig:
    """One ``senet bench`` run: which models, in which modes and precisions, timed how."""

    models: tuple[str, ...] = field(default=(), metadata={"positional": True})
    """Model names; each SE model is paired with its plain twin (``se_x`` -> ``x``, ``x`` ->
    ``x_plain``), added automatically."""

    batch: int = 16
    """Batch size N of the throughput and training settings (latency runs batch 1)."""

    reps: int = 10
    """Timed repetitions per model and setting (the median is reported)."""

    warmup: int = 2
    """Untimed calls per model before a setting's repetitions."""

    dtypes: tuple[DType, ...] = DTYPE_NAMES
    """Precisions of the optimised settings and of training: fp32 and/or bf16."""

    compile: bool = False
    """Also time ``optimize(..., compile=True)`` (variant ``compiled``) in the inference modes; the
    first call of each compiles (seconds to minutes on a CPU; needs a C++ compiler there)."""

    modes: tuple[Mode, ...] = MODES
    """Any of latency (batch 1), throughput (batch N), train (one SGD step at batch N)."""

    peers: tuple[Peer, ...] = ()
    """Also time, interleaved with senet's rows, each model's peers: ``reference`` (the network
    written in plain PyTorch as most SE repositories write it; ResNets and CIFAR ResNets) and
    ``timm`` (when timm imports); rows ``PEER:MODEL``, compared with senet's in the report
    (:mod:`senet.bench.peers`). A model a peer lacks is reported and skipped."""

    image_size: int | None = None
    """Input side in pixels; None: 32 for ``*_cifar`` models, else 224."""

    threads: int | None = None
    """``torch.set_num_threads`` for the run, restored afterwards (None: PyTorch's default)."""

    device: Device = "auto"
    """auto (CUDA when available), cpu or cuda."""

    min_sample_ms: float = 50.0
    """A sample averages calls until it lasts at least this many milliseconds."""

    clock: Clock = "wall"
    """wall (time.perf_counter) or process (CPU time of this process: on a CPU shared with other
    jobs and with ``threads=1`` it does not count time spent descheduled; not meaningful for CUDA
    or with several threads)."""

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("bench: name at least one model")
        for name, value, low in (
            ("batch", self.batch, 1),
            ("reps", self.reps, 1),
            ("warmup", self.warmup, 0),
            ("min_sample_ms", self.min_sample_ms, 0),
        ):
            if value < low:
                raise ValueError(f"bench: {name} must be >= {low}, got {value}")
        for dtype in self.dtypes:
            if dtype not in DTYPE_NAMES:
                raise ValueError(f"bench: unknown dtype {dtype!r}; choose from {sorted(DTYPE_NAMES)}")
        for peer in self.peers:
            if peer not in PEERS:
                raise ValueError(f"bench: unknown peer {peer!r}; choose from {PEERS}")
        for mode in self.modes:
            if mode not in MODES:
                raise ValueError(f"bench: unknown mode {mode!r}; choose from {MODES}")
        if self.clock not in get_args(Clock):
            raise ValueError(f"bench: clock must be wall or process, got {self.clock!r}")
        if self.device not in get_args(Device):
            raise ValueError(f"bench: device must be auto, cpu or cuda, got {self.device!r}")
