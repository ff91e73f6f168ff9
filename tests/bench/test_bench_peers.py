"""senet.bench.peers: the plain-PyTorch reference networks, timm's names, and peers in a bench run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import senet
from senet.bench import peers
from senet.bench.config import BenchConfig
from senet.bench.peers import build_peer, has_peer, peer_model_name, reference_model, split_peer
from senet.bench.report import check_targets, format_table, peer_comparisons, read_report, summarize_timings
from senet.bench.runner import plain_twin, run_bench
from senet.bench.targets import Target, load_targets
from senet.commands.bench import command_line
from senet.layers.se import SqueezeExcite

WITH_REFERENCE = [name for name in senet.list_models() if has_peer("reference", name)]


def _copy_by_order(source: nn.Module, target: nn.Module) -> None:
    """Load ``source``'s state into ``target`` entry by entry in declaration order (the names
    differ; the shapes must agree one to one)."""
    src, dst = source.state_dict(), target.state_dict()
    assert len(src) == len(dst)
    for (ks, vs), (kd, vd) in zip(src.items(), dst.items(), strict=True):
        assert vs.shape == vd.shape, f"{ks} {tuple(vs.shape)} vs {kd} {tuple(vd.shape)}"
    target.load_state_dict(dict(zip(dst, src.values(), strict=True)))


def _randomise_norms(model: nn.Module) -> None:
    """Random BN statistics and affine terms, so that a misplaced BN cannot go unnoticed."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) * 0.3 + 0.2)  # deep nets stay tame
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def test_the_reference_covers_the_resnets_and_only_them() -> None:
    for name in (
        "se_resnet50",
        "resnet50",
        "se_resnext50_32x4d",
        "se_resnet18",
        "se_resnet20_cifar",
        "resnet110_cifar",
    ):
        assert name in WITH_REFERENCE
    for name in (
        "senet154",
        "se_fastnet_cifar",
        "se_preact_resnet164_cifar",
        "se_wrn16_8_cifar",
        "se_vgg16_bn",
        "nope",
    ):
        assert reference_model(name) is None


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_reference_computes_senets_function(name: str) -> None:
    """Given senet's weights (copied in order), the textbook network gives senet's outputs (in
    float64: in float32 the two orders of summation drift apart by 1e-4 over 100 layers)."""
    torch.manual_seed(0)
    ours, ref = senet.create_model(name).eval().double(), reference_model(name).eval().double()
    _randomise_norms(ours)
    _copy_by_order(ours, ref)
    size = 8 if name.endswith("_cifar") else 32
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ref(x), ours(x))


def test_reference_trains_like_senet() -> None:
    """Train-mode gradients of SE-ResNet-20 agree (batch statistics, the fused SE op's backward)."""
    torch.manual_seed(0)
    ours, ref = senet.create_model("se_resnet20_cifar").train(), reference_model("se_resnet20_cifar").train()
    _copy_by_order(ours, ref)
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 3, 5, 9])
    for model in (ours, ref):
        F.cross_entropy(model(x), y).backward()
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-6)


def test_reference_se_equals_senet_excitation() -> None:
    se = SqueezeExcite(32)
    ref = peers.RefSE(32, se.fc1.out_channels)
    ref.load_state_dict(se.state_dict())
    x = torch.randn(2, 32, 5, 5)
    torch.testing.assert_close(ref(x), se(x))


def test_peer_rows_names_and_twins() -> None:
    assert split_peer("timm:se_resnet50") == ("timm", "se_resnet50")
    assert split_peer("se_resnet50") == (None, "se_resnet50")
    assert split_peer("other:se_resnet50") == (None, "other:se_resnet50")
    assert plain_twin("reference:se_resnet20_cifar") == "reference:resnet20_cifar"
    assert plain_twin("timm:se_resnet50") == "timm:resnet50"
    assert peer_model_name("timm:se_resnet50") == "seresnet50"
    assert peer_model_name("reference:se_resnet50") == "se_resnet50"


def test_timm_peer_asks_timm_for_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []

    def create_model(name: str, pretrained: bool) -> nn.Module:
        asked.append((name, pretrained))
        return nn.Linear(2, 2)

    monkeypatch.setattr(peers, "timm_module", lambda: SimpleNamespace(create_model=create_model))
    assert has_peer("timm", "se_resnet50") and not has_peer("timm", "se_fastnet_cifar")
    assert isinstance(build_peer("timm:se_resnext50_32x4d"), nn.Linear)
    assert asked == [("seresnext50_32x4d", False)]
    assert "TIMM_NAMES" in peers.why_missing("timm") and "ResNets" in peers.why_missing("reference")
    monkeypatch.setattr(peers, "timm_module", lambda: None)
    assert not has_peer("timm", "se_resnet50")
    assert peers.why_missing("timm") == "timm does not import here"
    with pytest.raises(ValueError, match="no timm model for 'se_resnet50'"):
        build_peer("timm:se_resnet50")


def test_config_checks_and_writes_back_peers() -> None:
    with pytest.raises(ValueError, match="unknown peer 'torchvision'"):
        BenchConfig(models=("se_resnet50",), peers=("torchvision",))  # type: ignore[arg-type]
    config = BenchConfig(models=("se_resnet50",), peers=("reference", "timm"))
    assert "--peers reference,timm" in command_line(config)


def test_bench_run_times_the_reference_beside_senet() -> None:
    logged: list[str] = []
    config = BenchConfig(
        models=("se_resnet20_cifar",), modes=("latency", "train"), dtypes=("fp32",), batch=2, reps=2,
        warmup=0, min_sample_ms=0, image_size=8, peers=("reference", "timm"),
    )  # fmt: skip
    report = summarize_timings(run_bench(config, log=logged.append))
    rows = {(r["model"], r["mode"], r["variant"]) for r in report["results"]}
    for model in (
        "se_resnet20_cifar",
        "resnet20_cifar",
        "reference:se_resnet20_cifar",
        "reference:resnet20_cifar",
    ):
        assert {
            (model, "latency", "eager"),
            (model, "latency", "optimized"),
            (model, "train", "optimized"),
        } <= rows
    peer_rows = [r for r in report["results"] if r.get("peer")]
    assert {r["peer"] for r in peer_rows} == {"reference"} and len(peer_rows) == 8
    over = {(o["model"], o["mode"], o["variant"]): o["twin"] for o in report["overheads"]}
    assert over[("reference:se_resnet20_cifar", "train", "eager")] == "reference:resnet20_cifar"
    best = [c for c in report["peers"] if c["variant"] == "best"]
    assert {(c["model"], c["peer"], c["mode"]) for c in best} == {
        (m, f"reference:{m}", mode)
        for m in ("se_resnet20_cifar", "resnet20_cifar")
        for mode in ("latency", "train")
    }
    for c in best:  # the fastest row of each side
        side = [
            r["median_ms"] for r in report["results"] if r["model"] == c["model"] and r["mode"] == c["mode"]
        ]
        assert c["senet_ms"] == min(side) and c["speedup"] == pytest.approx(
            c["peer_ms"] / c["senet_ms"], rel=1e-3
        )
    if peers.timm_module() is None:
        assert any("no timm peer for se_resnet20_cifar, resnet20_cifar" in line for line in logged)
    table = format_table(report)
    assert (
        "senet x" in table
        and "se_resnet20_cifar vs reference:se_resnet20_cifar, train b2, best of each" in table
    )


def test_peer_comparisons_pair_same_settings() -> None:
    def row(model: str, variant: str, dtype: str, ms: float) -> dict:
        return {
            "model": model,
            "mode": "latency",
            "variant": variant,
            "dtype": dtype,
            "batch": 1,
            "median_ms": ms,
        }

    results = [
        row("se_resnet50", "eager", "fp32", 100.0),
        row("se_resnet50", "optimized", "bf16", 40.0),
        row("timm:se_resnet50", "eager", "fp32", 90.0),
        row("timm:se_resnet50", "optimized", "bf16", 60.0),
    ]
    got = {(c["variant"], c["dtype"]): c for c in peer_comparisons(results)}
    assert got[("eager", "fp32")]["speedup"] == pytest.approx(0.9)
    assert got[("optimized", "bf16")]["speedup"] == pytest.approx(1.5)
    assert got[("best", "best")]["speedup"] == pytest.approx(1.5)
    assert got[("best", "best")]["senet_setting"] == "optimized bf16"


def test_peer_targets_are_judged_on_the_comparisons() -> None:
    def row(model: str, variant: str, ms: float) -> dict:
        return {
            "model": model,
            "mode": "train",
            "variant": variant,
            "dtype": "fp32",
            "batch": 8,
            "median_ms": ms,
        }

    results = [row("se_resnet50", "eager", 120.0), row("se_resnet50", "optimized", 100.0),
               row("timm:se_resnet50", "eager", 125.0), row("timm:se_resnet50", "optimized", 110.0)]  # fmt: skip
    targets = (
        Target("vs timm, best", "se_resnet50", "peer", "train", "fp32", 1.3, variant="best", peer="timm"),
        Target("vs timm, eager", "se_resnet50", "peer", "train", "fp32", 1.0, variant="eager", peer="timm"),
        Target(
            "vs the reference", "se_resnet50", "peer", "train", "fp32", 1.0, variant="best", peer="reference"
        ),
    )
    got = {t["name"]: t for t in check_targets(results, targets)}
    assert set(got) == {"vs timm, best", "vs timm, eager"}  # no reference rows were timed
    best = got["vs timm, best"]
    assert not best["met"] and best["value"] == pytest.approx(1.1) and "short by 15%" in best["miss"]
    assert "senet optimized fp32 vs peer optimized fp32" in best["shown"]
    assert got["vs timm, eager"]["met"] and got["vs timm, eager"]["value"] == pytest.approx(
        125 / 120, rel=1e-3
    )


def test_peer_targets_check_their_fields() -> None:
    with pytest.raises(ValueError, match="peer=None"):
        Target("t", "se_resnet50", "peer", "train", "fp32", 1.3)
    with pytest.raises(ValueError, match="variant='best'"):
        Target("t", "se_resnet50", "overhead", "train", "fp32", 0.05, variant="best")
    with pytest.raises(ValueError, match="peer='timm'"):
        Target("t", "se_resnet50", "overhead", "train", "fp32", 0.05, peer="timm")


def test_issue16_targets_file_loads_and_judges_its_saved_run() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "bench"
    targets = load_targets(docs / "issue16_targets.json")
    assert {t.kind for t in targets} == {"overhead", "peer"} and {t.peer for t in targets} == {
        None,
        "reference",
        "timm",
    }
    verdicts = check_targets(read_report(docs / "issue16_peers_resnet20_train.json")["results"], targets)
    assert {v["name"] for v in verdicts} == {
        "SE-ResNet-20 train step fp32 vs the reference",
        "SE overhead in the SE-ResNet-20 train step, fp32",
    }
