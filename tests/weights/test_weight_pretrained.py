"""The pretrained registry, the verified cache and ``create_model(name, pretrained=True)``."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from local_server import Route, serve
from weight_fixtures import randomize, to_cadene

from senet.api import create_model, list_models
from senet.weights import pretrained as hub
from senet.weights.convert import convert_state_dict

URLOPEN = urllib.request.urlopen  # before any test replaces it


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network unreachable (test)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(torch.hub, "urlopen", refuse)  # torch.hub's downloader imported it by name
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
    monkeypatch.setattr(torch.hub, "urlopen", URLOPEN)  # the server is on 127.0.0.1
    monkeypatch.setenv("no_proxy", "*")
    with serve() as server:
        entry = dataclasses.replace(entry, urls=(server.url("/" + entry.filename),))
        served = server.routes["/" + entry.filename] = Route(data)
        assert hub.download(entry, progress=False).read_bytes() == data
        (offline / entry.filename).unlink()
        served.body = b"corrupted"
        with pytest.raises(hub.PretrainedUnavailableError, match="does not match"):
            hub.download(entry, progress=False)
    assert list(offline.iterdir()) == []


def test_every_tag_converts_into_its_model() -> None:
    """Each entry's layout, converted from a state dict of its model's shapes (meta device),
    names that model: the registry only lists networks senet builds exactly."""
    for tag, entry in hub.TAGS.items():
        with torch.device("meta"):
            sd = create_model(entry.model).state_dict()
        if entry.layout == "cadene":
            sd = to_cadene(sd, deep_stem=entry.model == "senet154")
        converted = convert_state_dict(sd, entry.layout)  # type: ignore[arg-type]
        assert converted.model_name == entry.model, tag
        assert converted.config.stride_in_1x1 == (
            entry.layout == "cadene" and "resnext" not in tag and "154" not in tag
        )


def test_tags_mirrors_and_hashes() -> None:
    assert len(hub.TAGS) >= 15 and set(hub.PRETRAINED) <= {e.model for e in hub.TAGS.values()}
    for tag, entry in hub.TAGS.items():
        assert tag == f"{entry.model}.{entry.origin}" and "." not in entry.origin
        assert entry.hash_prefix and all(url.endswith("/" + entry.filename) for url in entry.urls)
        assert entry.verification == ("sha256" if entry.sha256 else "prefix only")
        assert entry.top1 is not None and 70 < entry.top1 < 90 and entry.top1_source
        insecure = [url for url in entry.urls if not url.startswith("https://")]
        assert all(url.startswith("http://data.lip6.fr/") for url in insecure), tag
        assert list(entry.urls) == [url for url in entry.urls if url not in insecure] + insecure  # http last
    for model, entry in hub.PRETRAINED.items():
        assert entry.url.startswith("https://"), f"{model}'s default must have an https mirror"
        assert hub.pretrained_tags(model)[0] == entry.tag == hub.default_tag(model)


def test_lookup_by_tag_origin_or_model() -> None:
    assert hub.get_entry("se_resnet50").tag == "se_resnet50.cadene"
    assert hub.get_entry("se_resnet50.timm_ra2").layout == "timm"
    assert hub.get_entry("se_resnet50", "timm_ra2") is hub.get_entry("se_resnet50", "se_resnet50.timm_ra2")
    assert hub.get_entry("se_resnet50.timm_a1", True).preprocessing.crop_fraction == 0.95
    with pytest.raises(ValueError, match="is for 'senet154'"):
        hub.get_entry("se_resnet50", "senet154.gluon")
    with pytest.raises(KeyError, match="se_resnet50.cadene"):
        hub.get_entry("se_resnet50.nope")
    with pytest.raises(KeyError, match="no pretrained weights registered for 'resnet50'"):
        hub.get_entry("resnet50")
    assert hub.pretrained_tags("senet154") == ["senet154.timm_legacy", "senet154.cadene", "senet154.gluon"]
    assert hub.pretrained_tags("*.gluon") == [
        "se_resnext101_32x4d.gluon", "se_resnext50_32x4d.gluon", "senet154.gluon"
    ]  # fmt: skip
    assert hub.pretrained_tags("resnet*") == [] and hub.default_tag("resnet50") is None


def test_load_by_tag_from_a_local_server(offline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry, data, ref = _fake_entry(offline)
    monkeypatch.setattr(torch.hub, "urlopen", URLOPEN)
    monkeypatch.setenv("no_proxy", "*")
    with serve() as server:
        server.routes["/" + entry.filename] = Route(data)
        urls = (server.url("/gone/" + entry.filename), server.url("/" + entry.filename))
        entry = dataclasses.replace(entry, urls=urls, origin="local")
        monkeypatch.setitem(hub.TAGS, entry.tag, entry)
        model = create_model("se_resnet18.local")  # the tag, loaded through senet.api
    assert model.preprocessing == entry.preprocessing and not model.training
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), rtol=1e-5, atol=1e-5)
    assert hub.convert_pretrained("se_resnet18.local").source == "se_resnet18.local"  # from the cache now


def test_published_weights_fine_tune_and_carry_their_card(
    offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry, data, ref = _fake_entry(offline)
    monkeypatch.setitem(hub.PRETRAINED, "se_resnet18", entry)
    (offline / entry.filename).write_bytes(data)
    tuned = create_model("se_resnet18", pretrained=True, num_classes=5, in_chans=1)
    assert tuned.fc.out_features == 5 and tuned.conv1.weight.shape[1] == 1
    assert torch.allclose(tuned.conv1.weight, ref.conv1.weight.sum(1, keepdim=True))
    assert torch.equal(tuned.layer4[1].se.fc2.weight, ref.layer4[1].se.fc2.weight)  # the backbone loaded
    assert tuned.card.source == entry.tag and tuned.card.reported_top1 == entry.top1
