"""SE-guided channel pruning (the paper's closing suggestion, Sec. 8), measured against magnitude pruning.

:func:`prune` removes residual-stream channels of a trained ResNet-family SE network to a budget
of multiply-adds or parameters, ranked by their mean excitation (``se``), their filters' L1 norm
(``l1``, Li et al. 2017) or at random; the result is a network of the same family whose
configuration holds its new widths. See docs/pruning.md.
"""

from senet.prune.criteria import CRITERIA, Criterion, gate_means
from senet.prune.pruner import Budget, PruneConfig, Pruned, keep_sets, prune, scores_for
from senet.prune.streams import StreamMap, stream_map

__all__ = [
    "CRITERIA",
    "Budget",
    "Criterion",
    "PruneConfig",
    "Pruned",
    "StreamMap",
    "gate_means",
    "keep_sets",
    "prune",
    "scores_for",
    "stream_map",
]
