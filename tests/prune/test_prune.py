"""senet.prune: stream maps, criteria, surgery and the budget, on small random-initialised networks."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from torch import nn

from senet.api import create_model, load_weights
from senet.complexity import count
from senet.config import ConfigError
from senet.fast.inference import optimize
from senet.layers.se import SEConfig
from senet.models.cifar import RESNET20, CifarResNet
from senet.models.resnet import ResNet, ResNetConfig, Stage
from senet.prune import PruneConfig, gate_means, keep_sets, prune, stream_map
from senet.prune.criteria import l1_scores, se_scores
from senet.weights.model_dir import save_pretrained

SE = SEConfig(reduction=4)
RATIO = {"cifar": 0.4, "basic": 0.4, "bottleneck": 0.15}  # the bottleneck's 3x3 costs stay
# ResNet-18 and -50 layouts at a quarter / an eighth of the widths (the tests' cost is the bisection)
BASIC = tuple(Stage(1, 16 * 2**i, 16 * 2**i, 1 if i == 0 else 2) for i in range(4))
BOTTLENECK = tuple(Stage(2 if i == 0 else 1, 8 * 2**i, 32 * 2**i, 1 if i == 0 else 2) for i in range(4))


def tiny_models() -> dict[str, nn.Module]:
    """A CIFAR ResNet (option-A shortcuts), a basic ResNet (stem shares layer1), a bottleneck ResNet
    (projections; SE only in stages 2-4), each with BN statistics that are not the identity."""
    torch.manual_seed(0)
    models = {
        "cifar": CifarResNet(dataclasses.replace(RESNET20, se=SE, num_classes=5)),
        "basic": ResNet(ResNetConfig("basic", BASIC, se=SE, num_classes=5, stem_width=16)),
        "bottleneck": ResNet(
            ResNetConfig("bottleneck", BOTTLENECK, se=SE, se_stages=(2, 3, 4), num_classes=5, stem_width=16)
        ),
    }
    for model in models.values():
        model.train()
        with torch.no_grad():  # BN running statistics of real data, roughly
            for _ in range(3):
                model(torch.randn(8, 3, 32, 32))
        model.eval()
    return models


@pytest.fixture(scope="module")
def models() -> dict[str, nn.Module]:
    return tiny_models()


def images(n: int = 4, side: int = 32) -> torch.Tensor:
    return torch.randn(n, 3, side, side, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("kind", ["cifar", "basic", "bottleneck"])
@pytest.mark.parametrize("criterion", ["se", "l1", "random"])
def test_ratio_zero_keeps_the_network(models: dict[str, nn.Module], kind: str, criterion: str) -> None:
    model, x = models[kind], images()
    pruned = prune(model, PruneConfig(ratio=0.0, criterion=criterion, cost_input_size=32), [x])
    assert pruned.model.config == model.config
    assert pruned.after.macs == pruned.before.macs and pruned.after.params == pruned.before.params
    with torch.no_grad():
        assert torch.equal(pruned.model(x), model(x))


def zeroed(model: nn.Module, keep: dict[int, torch.Tensor]) -> nn.Module:
    """A copy of ``model`` whose removed stream channels are exactly zero everywhere: every BN that
    writes a stream channel gets gamma = beta = 0 there, so the channel carries 0 through every sum."""
    smap = stream_map(model)
    copied = copy.deepcopy(model)
    with torch.no_grad():
        for path, slot in smap.writes.items():
            module = copied.get_submodule(path)
            if isinstance(module, nn.BatchNorm2d):
                gone = torch.ones(module.num_features, dtype=torch.bool)
                gone[keep[slot]] = False
                module.weight[gone] = 0
                module.bias[gone] = 0
    return copied


@pytest.mark.parametrize("kind", ["cifar", "basic", "bottleneck"])
def test_pruned_network_computes_the_original_with_removed_channels_zeroed(
    models: dict[str, nn.Module], kind: str
) -> None:
    model, x = models[kind], images()
    pruned = prune(model, PruneConfig(ratio=RATIO[kind], criterion="random", seed=3, cost_input_size=32))
    keep = {slot: torch.tensor(k) for slot, k in pruned.kept.items()}
    assert any(len(k) < old for k, (old, _) in zip(keep.values(), pruned.widths.values(), strict=True))
    with torch.no_grad():
        torch.testing.assert_close(pruned.model(x), zeroed(model, keep)(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["cifar", "basic", "bottleneck"])
def test_pruned_model_is_cheaper_and_loads_back_from_its_folder(
    models: dict[str, nn.Module], kind: str, tmp_path
) -> None:
    model, x = models[kind], images()
    ratio = RATIO[kind]
    pruned = prune(model, PruneConfig(ratio=ratio, criterion="l1", cost_input_size=32))
    before, after = count(model, 32), count(pruned.model, 32)
    assert after.macs <= (1 - ratio) * before.macs and after.params < before.params
    assert after.macs > (0.9 - ratio) * before.macs  # the bisection lands near the budget, not far below
    save_pretrained(pruned.model, tmp_path / "pruned", name="tiny")
    loaded = load_weights(None, tmp_path / "pruned")
    assert loaded.config == pruned.model.config
    with torch.no_grad():
        assert torch.equal(loaded(x), pruned.model(x))


def test_se_blocks_shrink_with_their_channels_and_keep_their_hidden_width(
    models: dict[str, nn.Module],
) -> None:
    model = models["basic"]
    pruned = prune(model, PruneConfig(ratio=0.5, criterion="l1", cost_input_size=32)).model
    for name, module in model.named_modules():
        if name.endswith(".se"):
            new = pruned.get_submodule(name)
            width = pruned.get_submodule(name.rsplit(".", 1)[0]).conv2.out_channels
            assert new.fc1.in_channels == new.fc2.out_channels == new.channels == width < module.channels
            assert new.fc1.out_channels == module.fc1.out_channels  # C' kept (Stage.se_hidden)
            assert new.fc2.bias.shape == (width,)


def test_a_bottleneck_stem_has_no_gates_and_keeps_its_width(models: dict[str, nn.Module]) -> None:
    model = models["bottleneck"]
    smap = stream_map(model)
    assert smap.owner[0] == [(0, c) for c in range(16)] and (0, 0) not in smap.gated()
    assert (1, 0) not in smap.gated()  # layer1 has no SE block (se_stages=(2, 3, 4))
    pruned = prune(model, PruneConfig(ratio=0.2, criterion="random", cost_input_size=32))
    assert pruned.widths[0] == (16, 16) and pruned.widths[1][1] == pruned.widths[1][0]
    assert pruned.widths[2][1] < pruned.widths[2][0]


def test_option_a_stages_keep_the_channels_they_carry(models: dict[str, nn.Module]) -> None:
    smap = stream_map(models["cifar"])
    assert smap.owner[1] == smap.owner[0]  # layer1 adds to the stem's channels
    assert smap.owner[2][:16] == smap.owner[1] and smap.channels_of(2) == [(2, c) for c in range(16, 32)]
    pruned = prune(models["cifar"], PruneConfig(ratio=0.5, criterion="random", cost_input_size=32))
    k1, k2 = pruned.kept[1], pruned.kept[2]
    assert k2[: len(k1)] == k1 and all(c >= 16 for c in k2[len(k1) :])


def test_se_criterion_keeps_the_channels_with_the_highest_mean_excitation(
    models: dict[str, nn.Module],
) -> None:
    model = models["cifar"]
    smap = stream_map(model)
    means = {block: torch.full((smap.widths[slot],), 0.5) for block, slot in smap.gates.items()}
    for block in means:  # stage 3 adds channels 32..63: make 40..47 the most excited in every block
        if block.startswith("layer3"):
            means[block][40:48] = 0.9
            means[block][48:52] = 0.1
    keep = keep_sets(smap, se_scores(smap, means), 8 / 32)  # 8 of stage 3's 32 own channels
    assert [c for c in keep[3].tolist() if c >= 32] == list(range(40, 48))


def test_gate_means_are_the_recorded_excitations(models: dict[str, nn.Module]) -> None:
    model = models["basic"]
    se = model.layer2[0].se
    with torch.no_grad():  # a constant gate: s_c = sigmoid(b_c) whatever the input
        se.fc2.weight.zero_()
        se.fc2.bias.copy_(torch.linspace(-3, 3, se.channels))
    means = gate_means(model, [images(3), images(5)], ["layer2.0.se"])
    torch.testing.assert_close(means["layer2.0.se"], torch.sigmoid(torch.linspace(-3, 3, se.channels)))
    smap = stream_map(model)
    keep = keep_sets(smap, se_scores(smap, means | _ones(model, smap, skip="layer2.0.se")), 0.25)
    assert keep[2].tolist() == list(range(24, 32))  # the largest biases: the last quarter of 32


def _ones(model: nn.Module, smap, skip: str) -> dict[str, torch.Tensor]:
    return {b: torch.ones(smap.widths[s]) for b, s in smap.gates.items() if b != skip}


def test_l1_criterion_keeps_the_largest_filters(models: dict[str, nn.Module]) -> None:
    model = copy.deepcopy(models["bottleneck"])
    smap = stream_map(model)
    with torch.no_grad():
        for path, slot in smap.writes.items():
            module = model.get_submodule(path)
            if slot == 4 and isinstance(module, nn.Conv2d) and ".se." not in path:
                module.weight.fill_(0.01)
                module.weight[:7] = 1.0  # filters 0..6 of every conv writing stage 4 are the largest
    gated = smap.gated()
    keep = keep_sets(smap, {ch: v for ch, v in l1_scores(model, smap).items() if ch in gated}, 7 / 256)
    assert keep[4].tolist() == list(range(7))


def test_refusals(models: dict[str, nn.Module]) -> None:
    with pytest.raises(ConfigError, match="at most"):  # the 3x3 convolutions are not pruned
        prune(models["bottleneck"], PruneConfig(ratio=0.95, criterion="l1", cost_input_size=32))
    with pytest.raises(ConfigError, match="standard SE placement"):
        prune(create_model("se_resnet20_cifar", placement="pre"), PruneConfig(criterion="l1"))
    with pytest.raises(ConfigError, match="no SE blocks"):
        prune(create_model("resnet20_cifar"), PruneConfig(criterion="l1"))
    with pytest.raises(ConfigError, match="calibration"):
        prune(models["cifar"], PruneConfig(criterion="se"))
    with pytest.raises(ConfigError, match="ratio"):
        PruneConfig(ratio=1.0)


def test_params_budget(models: dict[str, nn.Module]) -> None:
    pruned = prune(
        models["basic"], PruneConfig(ratio=0.5, criterion="l1", budget="params", cost_input_size=32)
    )
    assert 0.45 * pruned.before.params <= pruned.after.params <= 0.5 * pruned.before.params


@pytest.mark.parametrize("kind", ["cifar", "basic", "bottleneck"])
def test_optimized_inference_of_a_pruned_network_matches(models: dict[str, nn.Module], kind: str) -> None:
    pruned = prune(models[kind], PruneConfig(ratio=RATIO[kind], criterion="l1", cost_input_size=32)).model
    x = images()
    with torch.no_grad():
        torch.testing.assert_close(optimize(copy.deepcopy(pruned))(x), pruned(x), rtol=1e-4, atol=1e-4)
