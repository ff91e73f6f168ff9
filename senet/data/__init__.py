"""The data pipeline (no torchvision): tensor datasets augmented on the device, image folders decoded in workers.

Entry point: :func:`build_loaders` (``DataConfig`` -> train loader, eval loader, ``DataInfo``); for
prediction :func:`load_image`; for ten-crop evaluation :func:`forward_eval`. See docs/data.md.
"""

from senet.data.config import DATASETS, DataConfig, DataError, DataInfo
from senet.data.images import BadImageError
from senet.data.loaders import Loader, build_eval_loader, build_loaders, forward_eval, load_image

__all__ = [
    "DATASETS",
    "BadImageError",
    "DataConfig",
    "DataError",
    "DataInfo",
    "Loader",
    "build_eval_loader",
    "build_loaders",
    "forward_eval",
    "load_image",
]
