"""--budget: its typed form, the schedule shape it keeps, and the title that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from senet.analysis import ablation
from senet.analysis.budget import Budget
from senet.analysis.presets import preset
from senet.config import ConfigError
from senet.train.recipes import recipe


def test_parse_forms_and_errors() -> None:
    assert Budget.parse("2") == Budget.parse("2ep") == Budget(epochs=2)
    assert Budget.parse("2000img") == Budget(images=2000)
    assert Budget.parse("2ep, 2000img") == Budget(2, 2000) and Budget(2, 2000).slug == "2ep-2000img"
    for bad in ("", "2x", "2ep,3ep", "0ep", "img"):
        with pytest.raises(ConfigError, match="budget"):
            Budget.parse(bad)


def test_the_schedule_keeps_its_shape() -> None:
    step = Budget(epochs=10).apply(recipe("imagenet"))  # /10 every 30 of 100 -> every 3 of 10
    assert (step.epochs, step.step_size, step.schedule) == (10, 3, "step")
    multi = Budget(epochs=27).apply(recipe("ablation"))
    assert multi.epochs == 27 and multi.milestones == recipe("ablation").milestones  # fractions already
    large = Budget(epochs=4).apply(recipe("imagenet_large"))  # BN frozen for the last 2 of 100 epochs
    assert large.freeze_bn_last_epochs == 1
    fast = Budget(epochs=1).apply(recipe("fast"))  # a 1-epoch warm-up kept, at most half the budget
    assert fast.warmup_epochs == 0.5 and Budget(epochs=4).apply(recipe("fast")).warmup_epochs == 1.0
    images = Budget(images=500).apply(recipe("fast").with_overrides(["data.limit_train=300"]))
    assert images.data.limit_train == 300 and Budget(images=500).apply(recipe("fast")).data.limit_train == 500
    with pytest.raises(ConfigError, match="more than the recipe's 8"):
        Budget(epochs=9).apply(recipe("fast"))


def test_describe_names_the_full_epochs() -> None:
    assert Budget(epochs=2).describe([164, 164]) == "2 epochs of 164"
    assert Budget(epochs=1, images=2000).describe([200, 164]) == "1 epoch of 164/200, 2000 training images"


def test_plan_cuts_every_row_and_remembers_the_recipe(tmp_path: Path) -> None:
    cells = ablation.plan(preset("table4"), recipe("fast"), seeds=[0], out_dir=tmp_path, budget=Budget(2))
    assert {c.config.epochs for c in cells} == {2}
    assert [c.full_epochs for c in cells[::2]] == [164, 164, 200, 1800]
    assert cells[0].config.milestones == recipe("preact_cifar").milestones
