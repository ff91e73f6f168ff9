"""The pretrained registry, the verified cache and ``create_model(name, pretrained=True)``."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from weight_fixtures import randomize, to_cadene

from senet.api import create_model, list_models
from senet.weights import pretrained as hub


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network unreachable (test)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("SENET_CACHE", str(tmp_path))
    return tmp_path


def test_registry_entries_are_complete() -> None:
    assert hub.PRETRAINED
    for name, entry in hub.PRETRAINED.items():
        assert name in list_models() and entry.model == name
        assert entry.url.startswith(("http://", "https://")) and entry.hash_prefix
        assert entry.layout in ("cadene", "timm", "senet") and entry.source
        assert entry.top1 is None or 70 < entry.top1 < 90
        assert entry.preprocessing.input_size == 224 and len(entry.preprocessing.mean) == 3


def test_offline_error_says_where_to_put_the_file(offline: Path) -> None:
    with pytest.raises(hub.PretrainedUnavailableError) as err:
        create_model("se_resnet50", pretrained=True)
    assert str(offline / "se_resnet50-ce0d4300.pth") in str(err.value)
    assert "data.lip6.fr" in str(err.value)


def _fake_entry(tmp_path: Path) -> tuple[hub.PretrainedEntry, bytes, torch.nn.Module]:
    ref = randomize(create_model("se_resnet18", stem_pool_ceil=True, relu_before_se=True))  # the legacy net
    buffer = io.BytesIO()
    torch.save(to_cadene(ref.state_dict(), deep_stem=False), buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    url = f"https://example.invalid/se_resnet18-{digest[:8]}.pth"
    return hub.PretrainedEntry("se_resnet18", url, "cadene", "synthetic test file", None, digest), data, ref


def test_cached_file_is_verified_and_loaded(offline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry, data, ref = _fake_entry(offline)
    monkeypatch.setitem(hub.PRETRAINED, "se_resnet18", entry)
    (offline / entry.filename).write_bytes(data)
    model = create_model("se_resnet18", pretrained=True)
    assert model.preprocessing == entry.preprocessing
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), rtol=1e-5, atol=1e-5)
    (offline / entry.filename).write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])  # tampered
    with pytest.raises(hub.PretrainedUnavailableError, match="does not match"):
        create_model("se_resnet18", pretrained=True)


def test_download_writes_only_verified_files(offline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry, data, _ = _fake_entry(offline)
    served = {"body": data}
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(served["body"]))
    assert hub.download(entry).read_bytes() == data
    (offline / entry.filename).unlink()
    served["body"] = b"corrupted"
    with pytest.raises(hub.PretrainedUnavailableError, match="does not match"):
        hub.download(entry)
    assert list(offline.iterdir()) == []
