"""The statistics on hand-made gates, and the importance of a block that matters vs one that does not."""

from __future__ import annotations

import math

import pytest
import torch
from analysis_fixtures import TwoGates, two_gate_data

from senet.analysis.report import analyze, collect, default_blocks
from senet.analysis.stats import class_means, importance, saturation, specificity


def test_class_means_known_values() -> None:
    s = torch.tensor([[0.2, 0.4], [0.4, 0.6], [0.9, 0.1]])  # (N, C)
    means = class_means(s, torch.tensor([0, 0, 1]), 3)
    assert torch.allclose(means[:2], torch.tensor([[0.3, 0.5], [0.9, 0.1]]))
    assert torch.isnan(means[2]).all()  # class 2 has no image
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        class_means(s, torch.tensor([0, 0, 2]), 2)


def test_saturation_known_shares() -> None:
    s = torch.tensor([0.0, 0.05, 0.01, 0.5, 0.3, 0.7, 0.95, 1.0, 0.6, 0.2]).reshape(2, 5)
    sat = saturation(s)  # 3 values <= 0.05, 2 values >= 0.95
    assert sat.near_zero == pytest.approx(0.3) and sat.near_one == pytest.approx(0.2)
    wide = saturation(s, low=0.25, high=0.65)
    assert wide.near_zero == pytest.approx(0.4) and wide.near_one == pytest.approx(0.3)
    with pytest.raises(ValueError, match="low < high"):
        saturation(s, low=0.9, high=0.1)


def test_specificity_known_values() -> None:
    assert specificity(torch.full((4, 8), 0.6)) == 0.0  # class-agnostic
    two = torch.stack([torch.full((8,), 0.25), torch.full((8,), 0.75)])
    assert specificity(two) == pytest.approx(0.5)  # RMS spread 0.25 around a mean level 0.5
    with_absent = torch.cat([two, torch.full((1, 8), float("nan"))])
    assert specificity(with_absent) == pytest.approx(0.5)
    mixed = torch.tensor([[0.2, 0.6], [0.4, 0.2]])  # mbar (0.3, 0.4): deviations 0.1, 0.2 -> RMS sqrt(0.025)
    assert specificity(mixed) == pytest.approx(math.sqrt(0.025) / 0.35)


def test_importance_finds_the_block_that_matters() -> None:
    model, data = TwoGates().eval(), two_gate_data()
    base = collect(model, data)
    assert base.top1 == 100.0
    means = {name: s.mean(0) for name, s in base.excitations.items()}
    found = {i.block: i for i in importance(model, data, means=means, baseline_top1=base.top1)}
    assert found["se_a"].drop_mean_gate == 100.0 and found["se_a"].drop_ones == 100.0
    assert found["se_b"].drop_mean_gate == 0.0 and found["se_b"].drop_ones == 0.0
    assert found["se_b"].top1_ones == 100.0 and found["se_a"].top5_ones == 100.0  # two classes


def test_analyze_reports_hand_made_gates() -> None:
    report = analyze(TwoGates().eval(), two_gate_data(), classes=["x0<x1", "x0>x1"], model_name="two")
    a, b = report.blocks
    assert (a.name, b.name) == ("se_a", "se_b") and report.images == 40
    assert a.near_zero == pytest.approx(0.5) and a.near_one == pytest.approx(0.5)
    assert a.specificity == pytest.approx(1.0, abs=0.02)  # class means ~(1, 0) and ~(0, 1)
    assert b.specificity == pytest.approx(0.0, abs=1e-6) and b.mean == pytest.approx(
        torch.tensor(2.0).sigmoid().item()
    )
    assert b.near_zero == 0.0 and b.near_one == 0.0
    assert a.importance is not None and a.importance.drop_ones == 100.0


def test_default_blocks_follow_figure_6() -> None:
    names = [f"layer{i}.{j}.se" for i, n in ((1, 3), (2, 4), (3, 6), (4, 3)) for j in range(n)]
    assert default_blocks(names) == [
        "layer1.2.se",
        "layer2.3.se",
        "layer3.5.se",
        "layer4.0.se",
        "layer4.1.se",
        "layer4.2.se",
    ]
