"""Inception-ResNet-v2 and its SE twin (Table 2, 299 x 299)."""

import pytest
import torch
from model_checks import forward_backward, names_in, single_thread  # noqa: F401
from torch import nn

import senet
from senet.complexity import complexity, count
from senet.layers.se import SEConfig
from senet.models.common import ClassifierNet
from senet.models.inception_resnet import (
    BLOCK_A,
    BLOCK_B,
    BLOCK_C,
    Conv,
    InceptionResNetBlock,
    Mixed,
    Pool,
    sequence,
)

# exact counts at 299; Table 2 prints 11.75 / 11.76 GFLOPs, which this architecture (the
# authors' released widths: 55.8M parameters) counts at 297 (GRID_CANDIDATES below; docs/models.md)
COUNTS = {
    "inception_resnet_v2": (55_843_464, 13_155_794_016),
    "se_inception_resnet_v2": (64_387_444, 13_187_369_056),
}


def test_registered_names() -> None:
    assert names_in("senet.models.inception_resnet") == sorted(COUNTS)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_complexity_at_its_default_input_size(name: str) -> None:
    c = complexity(name)
    assert (c.input_size, c.params, c.macs) == (299, *COUNTS[name])


def test_se_scales_the_residual_branch_before_the_sum() -> None:
    torch.manual_seed(0)
    block = InceptionResNetBlock(BLOCK_A, 16, 0.17, SEConfig(reduction=4)).eval()
    torch.nn.init.zeros_(block.se.fc2.weight)
    torch.nn.init.constant_(block.se.fc2.bias, torch.logit(torch.tensor(0.5)).item())
    x = torch.randn(2, 16, 5, 5)
    with torch.no_grad():
        u = block.up(block.mixed(x))
        torch.testing.assert_close(block(x), torch.relu(x + 0.17 * 0.5 * u))


def test_structure_and_options() -> None:
    with torch.device("meta"):
        model = senet.create_model("se_inception_resnet_v2", num_classes=10)
    blocks = [m for m in model.modules() if isinstance(m, InceptionResNetBlock)]
    assert len(blocks) == 40 and [b.se.channels for b in blocks[::10]] == [320, 1088, 1088, 2080]
    assert not blocks[-1].relu and blocks[-1].scale == 1.0 and blocks[-2].relu
    assert model.default_input_size == 299 and model.num_features == 1536
    assert model(torch.zeros(1, 3, 299, 299, device="meta")).shape == (1, 10)


# Table 2's 11.75 / 11.76 against the candidates (docs/models.md, "Inception-ResNet-v2"): the
# released network on a smaller grid, and the schema of Szegedy et al.'s own Fig. 15.
GRID_CANDIDATES = {  # input side: (grids 35 / 17 / 8 become, plain MACs, SE MACs)
    299: ((35, 17, 8), 13_155_794_016, 13_187_369_056),
    297: ((34, 16, 7), 11_732_409_856, 11_761_483_136),
    295: ((34, 16, 7), 11_724_109_408, 11_753_182_688),
}


@pytest.mark.parametrize("side", sorted(GRID_CANDIDATES))
def test_table_2_figure_is_the_released_network_on_a_34_16_7_grid(side: int) -> None:
    grids, plain, se = GRID_CANDIDATES[side]
    with torch.device("meta"):
        model = senet.create_model("inception_resnet_v2")
        x = model.mixed_5b(model.stem(torch.zeros(1, 3, side, side)))
        sides = [x.shape[-1]]
        for stage in model.blocks[1::2]:  # the two reductions
            x = stage(x)
            sides.append(x.shape[-1])
    assert tuple(sides) == grids
    assert (
        complexity("inception_resnet_v2", side).macs,
        complexity("se_inception_resnet_v2", side).macs,
    ) == (plain, se)


def _paper_schema_macs(blocks: tuple[int, int, int]) -> int:
    """Szegedy et al. 2017, Fig. 15 as drawn: the Inception-v4 stem (Fig. 3, 35 x 35 x 384),
    A blocks back to 384, Reduction-A (k, l, m, n = 256, 256, 384, 384) to 1152, B blocks,
    Reduction-B (Fig. 18) to 2144, C blocks; no final 1x1 convolution."""
    v = True
    stem_mixed = (
        ((Pool("max", 2, valid=v),), (Conv(96, 3, 2, valid=v),)),
        (
            (Conv(64, 1), Conv(96, 3, valid=v)),
            (Conv(64, 1), Conv(64, (7, 1)), Conv(64, (1, 7)), Conv(96, 3, valid=v)),
        ),
        ((Conv(192, 3, 2, valid=v),), (Pool("max", 2, valid=v),)),
    )
    reduction_a = (
        (Pool("max", 2, valid=v),),
        (Conv(384, 3, 2, valid=v),),
        (Conv(256, 1), Conv(256, 3), Conv(384, 3, 2, valid=v)),
    )
    reduction_b = (
        (Pool("max", 2, valid=v),),
        (Conv(256, 1), Conv(384, 3, 2, valid=v)),
        (Conv(256, 1), Conv(288, 3, 2, valid=v)),
        (Conv(256, 1), Conv(288, 3), Conv(320, 3, 2, valid=v)),
    )

    class PaperSchema(ClassifierNet):
        def __init__(self) -> None:
            super().__init__()
            self.stem, width = sequence((Conv(32, 3, 2, valid=v), Conv(32, 3, valid=v), Conv(64, 3)), 3)
            parts: list[nn.Module] = []
            for branches in stem_mixed:
                parts.append(Mixed(branches, width))
                width = parts[-1].out_channels
            for n, block, reduction in zip(
                blocks, (BLOCK_A, BLOCK_B, BLOCK_C), (reduction_a, reduction_b, None), strict=True
            ):
                parts += [InceptionResNetBlock(block, width, 0.1, None) for _ in range(n)]
                if reduction is not None:
                    parts.append(Mixed(reduction, width))
                    width = parts[-1].out_channels
            self.blocks = nn.Sequential(*parts)
            self.add_head(width, 1000, 0.2)

        def forward_features(self, x: torch.Tensor) -> torch.Tensor:
            return self.blocks(self.stem(x))

    with torch.device("meta"):
        return count(PaperSchema(), 299).macs


def test_the_original_papers_schema_does_not_give_table_2_either() -> None:
    assert _paper_schema_macs((5, 10, 5)) == 9_257_953_632  # Fig. 15's block counts: 9.26 G
    assert _paper_schema_macs((10, 20, 10)) == 14_142_011_232  # with the released counts: 14.14 G
