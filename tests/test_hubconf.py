"""hubconf.py: torch.hub.load from a local clone, with torch alone for building networks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def test_hub_load_from_a_clone_builds_with_torch_alone() -> None:
    code = (
        "import sys\n"
        "for mod in ('safetensors', 'yaml', 'PIL', 'sklearn', 'matplotlib', 'onnx'):\n"
        "    sys.modules[mod] = None  # importing any of them now fails\n"
        "import torch\n"
        f"m = torch.hub.load({str(ROOT)!r}, 'se_resnet18', source='local', num_classes=5)\n"
        "print(type(m).__name__, m.fc.out_features)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ResNet", "5"]


def test_hub_entries_cover_the_registry_and_load_weights(tmp_path: Path) -> None:
    import senet

    hub = torch.hub.load(str(ROOT), "se_resnet20_cifar", source="local")
    assert type(hub).__name__ == "CifarResNet"
    source = senet.create_model("se_resnet20_cifar", num_classes=10)
    senet.save_pretrained(source, tmp_path / "m", name="se_resnet20_cifar")
    tuned = torch.hub.load(
        str(ROOT), "se_resnet20_cifar", source="local", weights=str(tmp_path / "m"), num_classes=3
    )
    assert tuned.fc.out_features == 3
    assert torch.equal(tuned.conv1.weight, source.conv1.weight)  # the backbone loaded
    import importlib.util

    spec = importlib.util.spec_from_file_location("senet_hubconf", ROOT / "hubconf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(senet.list_models()) <= {n for n in dir(module) if not n.startswith("_")}
