"""Small datasets kept resident as uint8 tensors: scikit-learn digits, MNIST / Fashion-MNIST, CIFAR-10/100.

Every loader returns a :class:`TensorSplit` per split: ``images`` uint8 (N, C, H, W) at the requested input
size, ``labels`` int64 (N,), and the class names.
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from senet.data.config import DataConfig, DataError
from senet.data.download import ensure_files, resolve_cifar_folder
from senet.data.sampling import subset_indices

#: The fixed split of scikit-learn's digits: per class, a seeded shuffle puts 20% in the test set.
DIGITS_SEED = 0
DIGITS_TEST_FRACTION = 0.2

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


@dataclass(frozen=True)
class TensorSplit:
    """One split of a tensor dataset: ``images`` uint8 (N, C, H, W), ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) to (N, C, size, size) with antialiased bilinear interpolation (once, at load)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = F.interpolate(
        images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    return out.round_().clamp_(0, 255).to(torch.uint8)


def digits_split(*, size: int) -> tuple[TensorSplit, TensorSplit]:
    """scikit-learn's 1797 handwritten digits (8x8, grey levels 0..16) as (train, test).

    The split is fixed: for each class c, ``numpy.random.default_rng(DIGITS_SEED)`` shuffles its indices and
    the first round(0.2 * n_c) go to the test set (1438 train / 359 test). Grey levels are scaled to 0..255
    (v * 255 / 16, ink is bright, as in MNIST) and resized once to ``size`` (default 16).
    """
    images, labels = _digits_arrays()  # (1797, 8, 8) float 0..16, (1797,) int64
    rng = np.random.default_rng(DIGITS_SEED)
    test_mask = np.zeros(len(labels), dtype=bool)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        test_mask[idx[: round(DIGITS_TEST_FRACTION * len(idx))]] = True
    pixels = torch.from_numpy(np.round(images * (255.0 / 16.0)).astype(np.uint8)).unsqueeze(1)  # (N, 1, 8, 8)
    pixels = resize_uint8(pixels, size)
    targets = torch.from_numpy(labels)
    classes = [str(i) for i in range(10)]
    train = torch.from_numpy(~test_mask)
    test = torch.from_numpy(test_mask)
    return TensorSplit(pixels[train], targets[train], classes), TensorSplit(
        pixels[test], targets[test], classes
    )


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The digits as scikit-learn ships them (``sklearn/datasets/data/digits.csv.gz``: 64 pixels + label per row).

    The file is read directly -- importing ``sklearn.datasets`` costs seconds -- with ``load_digits`` as the
    fallback when the file is not where this scikit-learn keeps it.
    """
    spec = importlib.util.find_spec("sklearn")
    for location in (spec.submodule_search_locations or []) if spec else []:
        csv = Path(location) / "datasets" / "data" / "digits.csv.gz"
        if csv.is_file():
            table = np.loadtxt(csv, delimiter=",", dtype=np.float64)  # (1797, 65)
            return table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return np.asarray(bunch.images, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def _open_maybe_gzip(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"{path}: corrupt gzip data ({err})") from err
    return data


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (gzipped or raw): magic 0x0000 08 D (uint8, D dims), D big-endian uint32 sizes, data."""
    path = Path(path)
    data = _open_maybe_gzip(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path}: not an idx file (bad magic {data[:4].hex()})")
    if data[2] != 0x08:
        raise DataError(f"{path}: idx type 0x{data[2]:02x} is not uint8 (0x08)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataError(f"{path}: truncated idx header ({len(data)} bytes, {ndim} dimensions)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise DataError(
            f"{path}: truncated or padded idx file: shape {shape} needs {expected} bytes of data, found {len(data) - header}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx(root: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (root / name).is_file():
            return root / name
    raise DataError(f"{root}: missing {stem}(.gz)")


def mnist_split(root: str | Path, *, train: bool, size: int, classes: list[str]) -> TensorSplit:
    """One split of MNIST-format idx files in ``root`` (``train-*`` or ``t10k-*``)."""
    root = Path(root)
    prefix = "train" if train else "t10k"
    images = read_idx(_find_idx(root, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(_find_idx(root, f"{prefix}-labels-idx1-ubyte"))
    if images.ndim != 3:
        raise DataError(f"{root}: {prefix} images have {images.ndim} dimensions, expected 3 (N, H, W)")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(f"{root}: {prefix} has {images.shape[0]} images but labels of shape {labels.shape}")
    _check_labels(labels, len(classes), f"{root}/{prefix}-labels-idx1-ubyte")
    pixels = resize_uint8(torch.from_numpy(images.copy()).unsqueeze(1), size)
    return TensorSplit(pixels, torch.from_numpy(labels.astype(np.int64)), classes)


def _check_labels(labels: np.ndarray, num_classes: int, where: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(labels.max()) if labels.max() >= num_classes else int(labels.min())
        raise DataError(f"{where}: label {bad} out of range 0..{num_classes - 1}")


class _SafeUnpickler(pickle.Unpickler):
    """CIFAR batches are pickles: allow only the numpy array types they contain, nothing executable."""

    ALLOWED = {
        ("_codecs", "encode"),  # bytes pickled by Python 3 with protocol 2
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.ALLOWED:
            if module == "numpy.core.multiarray":  # Python 2 / numpy 1 pickles; numpy 2 moved it
                module = "numpy._core.multiarray" if hasattr(np, "_core") else module
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _load_pickle(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"missing CIFAR batch {path}")
    try:
        with path.open("rb") as fh:
            obj = _SafeUnpickler(fh, encoding="bytes").load()
    except Exception as err:  # noqa: BLE001 -- any failure of the (code-free) unpickler is a bad file
        raise DataError(f"{path}: corrupt CIFAR batch ({type(err).__name__}: {err})") from err
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a dict in the CIFAR batch, found {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def cifar_split(root: str | Path, *, dataset: str, train: bool, size: int) -> TensorSplit:
    """One split of CIFAR-10 (``data_batch_1..5`` / ``test_batch``) or CIFAR-100 (``train`` / ``test``, fine labels)."""
    folder = resolve_cifar_folder(Path(root), dataset)
    if dataset == "cifar10":
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        meta, meta_key, label_key = "batches.meta", "label_names", "labels"
    else:
        names = ["train"] if train else ["test"]
        meta, meta_key, label_key = "meta", "fine_label_names", "fine_labels"
    missing = [n for n in names + [meta] if not (folder / n).is_file()]
    if missing:
        raise DataError(f"{folder}: missing CIFAR file(s) {', '.join(missing)}")
    classes = _cifar_classes(folder / meta, meta_key)
    arrays, labels = [], []
    for name in names:
        data, target = _cifar_batch(folder / name, label_key)
        arrays.append(data)
        labels.append(target)
    target = np.concatenate(labels)
    _check_labels(target, len(classes), str(folder))
    pixels = resize_uint8(torch.from_numpy(np.concatenate(arrays)), size)
    return TensorSplit(pixels, torch.from_numpy(target), classes)


def _cifar_classes(path: Path, key: str) -> list[str]:
    """The class names of a CIFAR ``batches.meta`` / ``meta`` file."""
    names = _load_pickle(path).get(key)
    if not isinstance(names, (list, tuple)) or not names:
        raise DataError(f"{path}: no list of class names under {key!r}")
    return [c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c) for c in names]


def _cifar_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3, 32, 32), labels int64 (N,)) of one CIFAR batch file."""
    batch = _load_pickle(path)
    if "data" not in batch or label_key not in batch:
        raise DataError(f"{path}: CIFAR batch lacks 'data' or {label_key!r}")
    try:
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as err:
        raise DataError(f"{path}: CIFAR batch with unreadable data or labels ({err})") from err
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.ndim != 1 or data.shape[0] != labels.shape[0]:
        raise DataError(f"{path}: data of shape {data.shape} does not match {labels.shape} labels of 3x32x32")
    return data.reshape(-1, 3, 32, 32), labels


def load_tensor_dataset(config: DataConfig) -> tuple[TensorSplit, TensorSplit]:
    """(train, test) of a tensor dataset at ``config.resolved_input_size()``; errors name the missing file."""
    size = config.resolved_input_size()
    if config.dataset == "digits":
        train, val = digits_split(size=size)
    elif config.dataset in ("mnist", "fashion-mnist"):
        root = ensure_files(config.dataset, config.check_root(), download=config.download)
        classes = MNIST_CLASSES if config.dataset == "mnist" else FASHION_CLASSES
        train = mnist_split(root, train=True, size=size, classes=classes)
        val = mnist_split(root, train=False, size=size, classes=classes)
    elif config.dataset in ("cifar10", "cifar100"):
        root = ensure_files(config.dataset, config.check_root(), download=config.download)
        train = cifar_split(root, dataset=config.dataset, train=True, size=size)
        val = cifar_split(root, dataset=config.dataset, train=False, size=size)
    else:
        raise DataError(f"{config.dataset!r} is not a tensor dataset")
    return _limit(train, config.limit_train), _limit(val, config.limit_val)


def _limit(split: TensorSplit, limit: int) -> TensorSplit:
    """The first ``limit`` samples would skew the classes of sorted data: keep evenly spaced ones instead."""
    if not limit or limit >= len(split):
        return split
    keep = torch.tensor(subset_indices(len(split), limit))
    return TensorSplit(split.images[keep], split.labels[keep], split.classes)


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std on a 0..1 scale of uint8 (N, C, H, W), computed in float64 chunks."""
    c = images.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    sq = torch.zeros(c, dtype=torch.float64)
    for chunk in images.split(4096):
        x = chunk.to(torch.float64) / 255.0
        total += x.sum(dim=(0, 2, 3))
        sq += (x * x).sum(dim=(0, 2, 3))
    n = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / n
    std = (sq / n - mean * mean).clamp_min(1e-12).sqrt()
    return tuple(round(float(v), 6) for v in mean), tuple(round(float(v), 6) for v in std)
