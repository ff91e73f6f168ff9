"""How fast each convolution of a training step runs, forward and backward, against other ways to compute it.

    python benchmarks/conv_kernels.py se_fastnet_cifar --batch 256 --threads 2 --reps 7

For every 3x3 convolution of the model (shapes taken from a forward pass, channels_last), times,
interleaved (medians of ``--reps``), PyTorch's (oneDNN) kernels and the alternatives one could
write without a compiler, in G multiply-adds per second:

- ``fwd``: the forward; ``dgrad``: the input gradient; ``wgrad``: the weight gradient
  (``aten.convolution_backward`` with one output asked for);
- ``wgrad_gemm``: the weight gradient as one GEMM on the im2col matrix of the input,
  dW (C_out, 9 C_in) = dY^T (C_out, N H W) @ cols (N H W, 9 C_in), the im2col copy included;
- ``wgrad_conv``: the weight gradient as a forward convolution with batch and channels swapped
  (input X^T (C_in, N, H, W), filters dY^T (C_out, N, H, W), padding 1);
- ``dgrad_conv``: the input gradient as a forward convolution with the flipped, transposed filters.

Each alternative is checked against aten's result (largest relative difference printed). Then
the GEMM ceiling of this CPU (MKL ``torch.mm`` on a square and on the largest layer's im2col shape).
These are the figures behind "the step is bound by the weight gradient" in docs/speed.md.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

import senet
from senet.bench.timing import time_interleaved
from senet.zoo import MODELS

CL = torch.channels_last
NAMES = ("fwd", "dgrad", "wgrad", "dgrad_conv", "wgrad_gemm", "wgrad_conv")


def conv_inputs(model: nn.Module, x: torch.Tensor) -> list[tuple[nn.Conv2d, torch.Tensor]]:
    """(conv, its input) for every 3x3, stride-1, padding-1 convolution, from one forward pass."""
    found: list[tuple[nn.Conv2d, torch.Tensor]] = []
    hooks = [
        m.register_forward_hook(lambda m, inputs, out: found.append((m, inputs[0].detach())))
        for m in model.modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3) and m.stride == (1, 1) and m.padding == (1, 1)
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return found


def im2col(x: torch.Tensor) -> torch.Tensor:
    """(N H W, 9 C) patches of a channels_last (N, C, H, W) map, 3x3 with padding 1, in (ky, kx, c) order."""
    n, c, h, w = x.shape
    padded = F.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1).contiguous()  # (N, H+2, W+2, C)
    s = padded.stride()
    patches = padded.as_strided((n, h, w, 3, 3, c), (s[0], s[1], s[2], s[1], s[2], s[3]))
    return patches.reshape(n * h * w, 9 * c)


def kernels(conv: nn.Conv2d, x: torch.Tensor) -> dict[str, Callable[[], torch.Tensor]]:
    """The computations timed for one layer, each returning its result (for the check)."""
    w = conv.weight.detach().contiguous(memory_format=CL)  # (C_out, C_in, 3, 3)
    gy = torch.randn_like(F.conv2d(x, w, padding=1)).contiguous(memory_format=CL)  # (N, C_out, H, W)
    args = ([1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    flipped = w.flip(2, 3).transpose(0, 1).contiguous(memory_format=CL)  # (C_in, C_out, 3, 3)
    xt, gt = x.transpose(0, 1), gy.transpose(0, 1)  # (C_in, N, H, W), (C_out, N, H, W)
    c_out, c_in = w.shape[:2]
    return {
        "fwd": lambda: F.conv2d(x, w, padding=1),
        "dgrad": lambda: torch.ops.aten.convolution_backward(gy, x, w, None, *args, [True, False, False])[0],
        "wgrad": lambda: torch.ops.aten.convolution_backward(gy, x, w, None, *args, [False, True, False])[1],
        "dgrad_conv": lambda: F.conv2d(gy, flipped, padding=1),
        "wgrad_gemm": lambda: (
            (gy.permute(0, 2, 3, 1).reshape(-1, c_out).t() @ im2col(x))
            .view(c_out, 3, 3, c_in)
            .permute(0, 3, 1, 2)
        ),
        "wgrad_conv": lambda: F.conv2d(xt, gt, padding=1).transpose(0, 1),
    }


def _err(a: torch.Tensor, ref: torch.Tensor) -> float:
    return ((a - ref).abs().max() / ref.abs().max()).item()


def layer_rows(layers: list[tuple[nn.Conv2d, torch.Tensor]], reps: int) -> None:
    """One printed row per (conv, input) of :func:`conv_inputs`: rates and the alternatives' differences."""
    print(f"{'layer':<8} {'C_in->C_out':>11} {'H':>3} {'GMAC':>6}  " + "  ".join(f"{k:>10}" for k in NAMES))
    for i, (conv, inp) in enumerate(layers):
        inp = inp.contiguous(memory_format=CL)
        steps = kernels(conv, inp)
        n, c_in, h, w = inp.shape
        gmac = n * h * w * c_in * conv.out_channels * 9 / 1e9
        cpu = torch.device("cpu")
        samples = time_interleaved(steps, reps=reps, warmup=1, min_sample_ms=0, device=cpu)  # type: ignore[arg-type]
        rates = {k: gmac / (statistics.median(v) / 1e3) for k, v in samples.items()}
        wref, dref = steps["wgrad"](), steps["dgrad"]()
        errs = {
            k: _err(steps[k](), wref if k.startswith("wgrad") else dref)
            for k in ("dgrad_conv", "wgrad_gemm", "wgrad_conv")
        }
        print(f"{f'conv {i}':<8} {f'{c_in}->{conv.out_channels}':>11} {h:>3} {gmac:6.2f}  "
              + "  ".join(f"{rates[k]:10.1f}" for k in NAMES)
              + "   max rel. diff " + " ".join(f"{k} {v:.1e}" for k, v in errs.items()))  # fmt: skip


def gemm_ceiling(reps: int, shape: tuple[int, int, int]) -> None:
    """G multiply-adds per second of torch.mm (MKL) on a square 2048 GEMM and on ``shape`` (M, K, N)."""
    for m, k, n in ((2048, 2048, 2048), shape):
        a, b = torch.randn(m, k), torch.randn(k, n)
        ms = statistics.median(time_interleaved({"mm": lambda a=a, b=b: a @ b}, reps=reps, warmup=1,
                                                min_sample_ms=0, device=torch.device("cpu"))["mm"])  # fmt: skip
        print(f"GEMM ceiling: torch.mm {m} x {k} @ {k} x {n}: {m * k * n / 1e9 / (ms / 1e3):.1f} G MAC/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="se_fastnet_cifar")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = senet.create_model(args.model).to(memory_format=CL).train()
    size = MODELS.get(args.model).input_size
    x = torch.randn(args.batch, 3, size, size).contiguous(memory_format=CL)
    print(f"# {args.model}, batch {args.batch}, {size} px, {args.threads} thread(s), torch {torch.__version__}; "
          "G multiply-adds per second, medians of interleaved repetitions")  # fmt: skip
    layers = conv_inputs(model, x)
    layer_rows(layers, args.reps)
    conv, inp = max(layers, key=lambda ci: ci[1].numel() * ci[0].out_channels)  # most MACs
    n, c, h, w = inp.shape
    gemm_ceiling(args.reps, (conv.out_channels, n * h * w, 9 * c))


if __name__ == "__main__":
    main()
