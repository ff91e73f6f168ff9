"""The paper's tables as grids that ``senet ablate --grid NAME`` trains (numbers: paper.md, v4).

- ``table4`` / ``table5``: CIFAR-10 / CIFAR-100 (Sec. 5.1), each baseline with and without SE,
  each trained with its own recipe "as in each baseline's original paper": the pre-activation
  ResNet-110 and ResNet-164 of He et al. 2016b (``preact_cifar``), WRN-16-8 (``wrn_cifar``), and
  Shake-Shake 26 2x96d / Shake-Even 29 2x4x64d with Cutout (``shake_cifar``). One error (%).
- ``table6``: Places365-Challenge (Sec. 5.2): ResNet-152 and SE-ResNet-152 with the ImageNet
  recipe on a ``folder`` layout of the 365 classes.
- ``table8``: SENet-154 (Appendix recipe ``imagenet_large``) trained and tested at 224 and at 320.
- ``table10`` ... ``table16``: the ablations of Sec. 6 (SE-ResNet-50 under the ``ablation``
  recipe); each row changes one SE option of the recipe's network.
- ``last_stage``: Sec. 4's remark that most of SE-ResNet-50's extra parameters sit in its last
  stage: without SE there (``se_stages=(1, 2, 3)``) the paper reports < 0.1% more top-5 error
  and ~4% extra parameters over ResNet-50 instead of ~10% (the parameters are measured here).

The ablation numbers are the top-1 / top-5 errors (%) of the paper's SE-ResNet-50 on ImageNet under
the ablation schedule (ResNet-50 baseline 23.30 / 6.55); the parameter counts are the paper's
(millions, 224 px, r = 16 unless the row varies it).
"""

from __future__ import annotations

from senet.analysis.grids import Grid, Variant
from senet.config import ConfigError

#: The ResNet-50 baseline of the ablation schedule (paper.md "Ablations": 23.30 / 6.55).
BASELINE = Variant("baseline", plain=True, paper=(23.30, 6.55), paper_params=25.6)
#: SE-ResNet-50 with the defaults (r = 16, avg squeeze, sigmoid, standard, all stages).
SE_DEFAULT = (22.28, 6.03)
#: The fallback of the grids that vary se_stages, which the CIFAR ResNets lack.
STAGES_FALLBACK = "se_resnet18"
STAGES_NOTE = (
    "the paper's network is SE-ResNet-50 (--recipe ablation); a recipe whose network has no "
    f"se_stages option (the CIFAR ResNets) falls back to {STAGES_FALLBACK}, and --model names another"
)


def _pair(
    label: str, model: str, recipe: str, errors: tuple[float, float], *, cifar100: bool = False
) -> tuple[Variant, Variant]:
    """A baseline row (the plain twin of ``model``) and its SE row, each with the paper's error."""
    plain = Variant(label, plain=True, model=model, recipe=recipe, cifar100=cifar100, paper=(errors[0],))
    se = Variant(f"SE-{label}", model=model, recipe=recipe, cifar100=cifar100, paper=(errors[1],))
    return plain, se


def _cifar(name: str, table: str, rows: tuple[tuple[Variant, Variant], ...]) -> Grid:
    variants = tuple(v for pair in rows for v in pair)
    note = "each pair trains with its own recipe; --data-root names the CIFAR folder"
    return Grid(name, table, variants, top5=False, note=note)


TABLE4 = _cifar(
    "table4",
    "Table 4 (CIFAR-10): error (%), each baseline and its SE counterpart",
    (
        _pair("ResNet-110", "se_preact_resnet110_cifar", "preact_cifar", (6.37, 5.21)),
        _pair("ResNet-164", "se_preact_resnet164_cifar", "preact_cifar", (5.46, 4.39)),
        _pair("WRN-16-8", "se_wrn16_8_cifar", "wrn_cifar", (4.27, 3.88)),
        _pair("Shake-Shake-26-2x96d-Cutout", "se_shake_shake26_2x96d_cifar", "shake_cifar", (2.56, 2.12)),
    ),
)
TABLE5 = _cifar(
    "table5",
    "Table 5 (CIFAR-100): error (%), each baseline and its SE counterpart",
    (
        _pair("ResNet-110", "se_preact_resnet110_cifar", "preact_cifar", (26.88, 23.85), cifar100=True),
        _pair("ResNet-164", "se_preact_resnet164_cifar", "preact_cifar", (24.33, 21.31), cifar100=True),
        _pair("WRN-16-8", "se_wrn16_8_cifar", "wrn_cifar", (20.43, 19.14), cifar100=True),
        _pair(
            "Shake-Even-29-2x4x64d-Cutout",
            "se_shake_even29_2x4x64d_cifar",
            "shake_cifar",
            (15.85, 15.41),
            cifar100=True,
        ),
    ),
)
TABLE6 = Grid(
    "table6",
    "Table 6 (Places365-Challenge, Sec. 5.2): single-crop top-1 / top-5 error (%)",
    (
        Variant("ResNet-152", plain=True, model="se_resnet152", recipe="imagenet", paper=(41.15, 11.61)),
        Variant("SE-ResNet-152", model="se_resnet152", recipe="imagenet", paper=(40.37, 11.01)),
    ),
    note="the ImageNet recipe on a folder layout: --data-root PLACES (PLACES/train/<class>/*.jpg and "
    "PLACES/val/<class>/*.jpg, 365 classes)",
)
TABLE8 = Grid(
    "table8",
    "Table 8: SENet-154, single-crop top-1 / top-5 error (%) on ImageNet",
    (
        Variant("SENet-154-224", model="senet154", recipe="imagenet_large", paper=(18.68, 4.47)),
        Variant(
            "SENet-154-320", model="senet154", recipe="imagenet_large", input_size=320, paper=(16.88, 3.58)
        ),
    ),
    note="the 320 row trains and tests at 320 px (the paper's 17.28 / 3.79 tests the 224 network on "
    "a 320 crop: not a training row); --data-root names the ImageNet folder",
)
LAST_STAGE = Grid(
    "last_stage",
    "Sec. 4: SE-ResNet-50 without SE in its last stage (paper: < 0.1% top-5 cost, ~4% extra params)",
    (
        BASELINE,
        Variant("SE_All", se_stages=(1, 2, 3, 4), paper=SE_DEFAULT, paper_params=28.1),
        Variant("SE_Stage_2-4", se_stages=(1, 2, 3)),
    ),
    fallback=STAGES_FALLBACK,
    note=STAGES_NOTE,
)

# Each preset lists the rows of the paper's table, in the paper's order, with its numbers.
PRESETS: dict[str, Grid] = {
    "table4": TABLE4,
    "table5": TABLE5,
    "table6": TABLE6,
    "table8": TABLE8,
    "table10": Grid(
        "table10",
        "Table 10: reduction ratio r",
        (
            Variant("r=2", reduction=2, paper=(22.29, 6.00), paper_params=45.7),
            Variant("r=4", reduction=4, paper=(22.25, 6.09), paper_params=35.7),
            Variant("r=8", reduction=8, paper=(22.26, 5.99), paper_params=30.7),
            Variant("r=16", reduction=16, paper=SE_DEFAULT, paper_params=28.1),
            Variant("r=32", reduction=32, paper=(22.72, 6.20), paper_params=26.9),
            BASELINE,
        ),
    ),
    "table11": Grid(
        "table11",
        "Table 11: squeeze operator",
        (Variant("max", squeeze="max", paper=(22.57, 6.09)), Variant("avg", squeeze="avg", paper=SE_DEFAULT)),
    ),
    "table12": Grid(
        "table12",
        "Table 12: excitation non-linearity",
        (
            Variant("ReLU", gate="relu", paper=(23.47, 6.98)),
            Variant("Tanh", gate="tanh", paper=(23.00, 6.38)),
            Variant("Sigmoid", gate="sigmoid", paper=SE_DEFAULT),
        ),
    ),
    "table13": Grid(
        "table13",
        "Table 13: SE in one stage (stage 2 = layer1, ..., stage 5 = layer4)",
        (
            BASELINE,
            Variant("SE_Stage_2", se_stages=(1,), paper=(23.03, 6.48), paper_params=25.6),
            Variant("SE_Stage_3", se_stages=(2,), paper=(23.04, 6.32), paper_params=25.7),
            Variant("SE_Stage_4", se_stages=(3,), paper=(22.68, 6.22), paper_params=26.4),
            Variant("SE_All", se_stages=(1, 2, 3, 4), paper=SE_DEFAULT, paper_params=28.1),
        ),
        fallback=STAGES_FALLBACK,
        note=STAGES_NOTE,
    ),
    "table14": Grid(
        "table14",
        "Table 14: SE integration (Fig. 5)",
        (
            Variant("SE", placement="standard", paper=SE_DEFAULT),
            Variant("SE-PRE", placement="pre", paper=(22.23, 6.00)),
            Variant("SE-POST", placement="post", paper=(22.78, 6.35)),
            Variant("SE-Identity", placement="identity", paper=(22.20, 6.15)),
        ),
    ),
    "table15": Grid(
        "table15",
        "Table 15: SE inside the residual unit",
        (
            Variant("SE", placement="standard", paper=SE_DEFAULT),
            Variant("SE_3x3", placement="3x3", paper=(22.48, 6.02), paper_params=25.8),
        ),
    ),
    "table16": Grid(
        "table16",
        "Table 16: global information embedding",
        (
            BASELINE,
            Variant("NoSqueeze", squeeze="none", paper=(22.93, 6.39), paper_params=28.1),
            Variant("SE", paper=SE_DEFAULT),
        ),
    ),
    "last_stage": LAST_STAGE,
}


def preset(name: str) -> Grid:
    """The grid of paper table ``name`` (``table4`` ... ``table16``, ``last_stage``)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown grid {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]
