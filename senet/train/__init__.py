"""Training: typed recipes (:mod:`.config`), the engine (:func:`fit`), checkpoints and DDP.

>>> from senet.train import fit, recipe
>>> result = fit(recipe("fast").with_overrides(["epochs=2", "out_dir=runs/demo"]))  # doctest: +SKIP
>>> result.top1_error, result.params, result.macs, result.checkpoint  # doctest: +SKIP
"""

from senet.config import ConfigError
from senet.train.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from senet.train.config import TrainConfig
from senet.train.engine import FitResult, NonFiniteLossError, evaluate, fit, train_one_epoch
from senet.train.recipes import RECIPES, cifar100, recipe
from senet.train.rundir import load_result

__all__ = [
    "RECIPES",
    "Checkpoint",
    "CheckpointError",
    "ConfigError",
    "FitResult",
    "NonFiniteLossError",
    "TrainConfig",
    "cifar100",
    "evaluate",
    "fit",
    "load_checkpoint",
    "load_result",
    "recipe",
    "train_one_epoch",
]
