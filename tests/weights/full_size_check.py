"""Full-size check (not a test; under a minute on one core): random senet models saved in
foreign layouts, converted back, logits compared at 224 x 224.

Run: .venv/bin/python tests/weights/full_size_check.py
"""

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from weight_fixtures import randomize, to_cadene

from senet.api import create_model
from senet.layers.se import SEConfig
from senet.weights.convert import convert_state_dict

torch.manual_seed(0)
torch.set_num_threads(1)
x = torch.randn(1, 3, 224, 224)
cases = [
    ("timm", "se_resnet50", dict(stride_in_1x1=False, se=SEConfig(divisor=8))),
    ("cadene", "se_resnet50", dict(stem_pool_ceil=True)),
    ("cadene", "se_resnext50_32x4d", dict(stem_pool_ceil=True)),
    ("cadene", "senet154", dict(stem_pool_ceil=True)),
]
for layout, name, opts in cases:
    t = time.time()
    ref = randomize(create_model(name, **opts))
    sd = ref.state_dict() if layout == "timm" else to_cadene(ref.state_dict(), deep_stem=name == "senet154")
    conv = convert_state_dict(sd)
    model = conv.build()
    with torch.no_grad():
        diff = (model(x) - ref(x)).abs().max().item()
    print(
        f"{layout:6s} {name:20s} entries={len(sd)} matched={conv.model_name} "
        f"stride_in_1x1={conv.config.stride_in_1x1} ceil={conv.config.stem_pool_ceil} "
        f"max|dlogit|={diff:.2e} ({time.time() - t:.0f} s)"
    )
