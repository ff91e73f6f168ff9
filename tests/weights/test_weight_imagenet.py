"""The ImageNet-1k class list: its readers and checks, the order of its sources, the verified
download (against a server on 127.0.0.1), and the names reaching model cards and ``predict``."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from local_server import Route, serve

import senet
from senet.config import ConfigError
from senet.weights import imagenet
from senet.weights.preprocessing import Preprocessing

URLOPEN = urllib.request.urlopen
FROM_TIMM = imagenet.from_timm  # before the fixture replaces it


def synthetic_index() -> dict[str, list[str]]:
    """1000 made-up sorted WNIDs with names (the real table is not part of the repository)."""
    return {str(k): [f"n{1000000 + 37 * k:08d}", f"class_{k}"] for k in range(1000)}


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No network, an empty cache, no environment override, no installed timm."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network unreachable (test)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(torch.hub, "urlopen", refuse)
    monkeypatch.setenv("SENET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(imagenet.ENV, raising=False)
    monkeypatch.setattr(imagenet, "from_timm", lambda: None)
    imagenet._note.cache_clear()
    return tmp_path


def test_index_and_text_files_read_alike(tmp_path: Path) -> None:
    index = synthetic_index()
    (tmp_path / "index.json").write_text(json.dumps(index))
    lines = "\n".join(f"{w}\t{n}, another lemma" for w, n in index.values())
    (tmp_path / "synsets.txt").write_text("\n" + lines + "\n")
    a, b = imagenet.read_classes(tmp_path / "index.json"), imagenet.read_classes(tmp_path / "synsets.txt")
    assert a.wnids == b.wnids and a.names == b.names
    assert a.wnids[3] == "n01000111" and a.names[3] == "class 3"  # underscores read as spaces
    assert a.name_of("n01000111") == "class 3" and a.name_of("n99999999") is None


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda rows: rows[:999], "999 classes, expected 1000"),
        (lambda rows: [rows[1], rows[0], *rows[2:]], "class 1: n01000000 after n01000037"),
        (
            lambda rows: [rows[0], rows[0], *rows[2:]],
            "class 1: n01000000 after n01000000: the WNIDs must be sorted",
        ),
        (lambda rows: [["x123", "a"], *rows[1:]], "class 0: 'x123' is not a WordNet id"),
        (lambda rows: [[rows[0][0], " "], *rows[1:]], "class 0 .n01000000. has no name"),
    ],
)
def test_a_wrong_list_is_refused_naming_the_file_and_class(tmp_path: Path, edit, message: str) -> None:
    rows = edit(list(synthetic_index().values()))
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({str(k): r for k, r in enumerate(rows)}))
    with pytest.raises(ConfigError, match=rf"bad.json: {message}"):
        imagenet.read_classes(path)


def test_a_text_line_that_is_not_a_class_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "synsets.txt"
    path.write_text("n01440764 tench\ntench n01440764\n")
    with pytest.raises(ConfigError, match=r"synsets.txt, line 2: expected 'WNID name'"):
        imagenet.read_classes(path)


def test_sources_in_order_env_then_cache_then_timm(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert imagenet.imagenet_classes() is None
    data = json.dumps(synthetic_index()).encode()
    monkeypatch.setattr(imagenet, "INDEX_MD5", hashlib.md5(data).hexdigest())
    timm_dir = isolated / "site" / "timm" / "data" / "_info"
    timm_dir.mkdir(parents=True)
    rows = list(synthetic_index().values())
    (timm_dir / "imagenet_synsets.txt").write_text("\n".join(w for w, _ in rows))
    (timm_dir / "imagenet_synset_to_lemma.txt").write_text("\n".join(f"{w}\ttimm {n}, x" for w, n in rows))
    dist = SimpleNamespace(locate_file=lambda f: isolated / "site" / f)
    monkeypatch.setattr(imagenet.importlib.metadata, "distribution", lambda name: dist)
    monkeypatch.setattr(imagenet, "from_timm", FROM_TIMM)
    assert imagenet.imagenet_classes().names[0] == "timm class 0"  # installed timm's files
    cached = isolated / "cache" / imagenet.INDEX_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data)
    assert imagenet.imagenet_classes().source == str(cached)  # the cache before timm
    (isolated / "mine.txt").write_text("\n".join(f"{w} mine {k}" for k, (w, _) in enumerate(rows)))
    monkeypatch.setenv(imagenet.ENV, str(isolated / "mine.txt"))
    assert imagenet.imagenet_classes().names[5] == "mine 5"  # the environment first
    monkeypatch.delenv(imagenet.ENV)
    cached.write_bytes(data + b" ")
    with pytest.raises(ConfigError, match="not the published class index"):
        imagenet.imagenet_classes()


def test_download_tries_mirrors_and_keeps_only_a_verified_file(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.dumps(synthetic_index()).encode()
    monkeypatch.setattr(imagenet, "INDEX_MD5", hashlib.md5(data).hexdigest())
    monkeypatch.setattr(urllib.request, "urlopen", URLOPEN)
    monkeypatch.setenv("no_proxy", "*")
    with serve() as server:
        server.routes["/bad.json"] = Route(b'{"0": ["n00000001", "wrong"]}')
        server.routes["/good.json"] = Route(data)
        monkeypatch.setattr(imagenet, "INDEX_URLS", (server.url("/gone.json"), server.url("/bad.json")))
        assert imagenet.imagenet_classes(download=True) is None
        assert "gone.json: HTTPError" in capsys.readouterr().err
        assert not (isolated / "cache" / imagenet.INDEX_FILE).exists()  # nothing unverified kept
        monkeypatch.setattr(imagenet, "INDEX_URLS", (server.url("/bad.json"), server.url("/good.json")))
        classes = imagenet.imagenet_classes(download=True)
    assert classes is not None and classes.names[999] == "class 999"
    assert (isolated / "cache" / imagenet.INDEX_FILE).read_bytes() == data
    assert server.requests == ["/gone.json", "/bad.json", "/bad.json", "/good.json"]
    assert not list((isolated / "cache").glob(".*download"))


def test_display_names_use_the_card_then_the_class_list(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert imagenet.display_names(["cat", "dog"], ["Cat", "Dog"]) == ["Cat", "Dog"]
    assert imagenet.display_names(["n01000037", "cat"]) == ["n01000037", "cat"]  # no list found
    (isolated / "index.json").write_text(json.dumps(synthetic_index()))
    monkeypatch.setenv(imagenet.ENV, str(isolated / "index.json"))
    assert imagenet.display_names(["n01000037", "cat"]) == ["class 1", "cat"]


def test_cards_carry_wnids_and_names_into_model_folders_and_predict(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    from senet.cli import main

    (isolated / "index.json").write_text(json.dumps(synthetic_index()))
    monkeypatch.setenv(imagenet.ENV, str(isolated / "index.json"))
    model = senet.create_model("se_resnet18")  # 1000 classes
    fields = imagenet.imagenet_labels(1000)
    assert fields["labels"][1] == "n01000037" and imagenet.imagenet_labels(10) == {}
    prep = Preprocessing(input_size=32, crop_fraction=1.0)
    folder = senet.save_pretrained(model, isolated / "m", name="se_resnet18", preprocessing=prep, **fields)
    raw = json.loads((folder / "config.json").read_text())
    assert raw["labels"][:2] == ["n01000000", "n01000037"] and raw["label_names"][1] == "class 1"
    monkeypatch.delenv(imagenet.ENV)  # the folder alone carries the names now
    loaded = senet.create_model(weights=folder)
    assert loaded.card.label_names == fields["label_names"]
    assert senet.create_model(weights=folder, num_classes=5).card.label_names is None  # a new head
    Image.new("RGB", (40, 40), (200, 30, 30)).save(isolated / "x.png")
    assert main(["predict", str(isolated / "x.png"), "--weights", str(folder), "--top", "2", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)[0]["top"]
    assert all(t["name"] == "class " + str(fields["labels"].index(t["class"])) for t in top)
    assert main(["predict", str(isolated / "x.png"), "--weights", str(folder), "--top", "1"]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert "class " in line and "(n0" in line


def test_models_command_prints_the_class_list(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from senet.cli import main

    assert main(["models", "--imagenet-classes"]) != 0  # offline, nothing local: a clear failure
    assert "could not download the ImageNet class names" in capsys.readouterr().err
    (isolated / "index.json").write_text(json.dumps(synthetic_index()))
    monkeypatch.setenv(imagenet.ENV, str(isolated / "index.json"))
    assert main(["models", "--imagenet-classes"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["1", "n01000037", "class", "1"] and out[-1].startswith("(1000 classes")


def test_the_list_is_read_once_per_process_until_its_file_changes(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    read_bytes = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self.name)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    data = json.dumps(synthetic_index()).encode()
    monkeypatch.setattr(imagenet, "INDEX_MD5", hashlib.md5(data).hexdigest())
    cached = isolated / "cache" / imagenet.INDEX_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data)
    for _ in range(3):  # e.g. three 1000-class model cards
        assert imagenet.imagenet_labels(1000)["label_names"][7] == "class 7"
    assert reads.count(imagenet.INDEX_FILE) == 1  # read and md5-checked once
    mine = isolated / "mine.txt"
    rows = list(synthetic_index().values())
    mine.write_text("\n".join(f"{w} mine {k}" for k, (w, _) in enumerate(rows)))
    monkeypatch.setenv(imagenet.ENV, str(mine))  # another source named: honoured at once
    assert imagenet.imagenet_classes().names[5] == "mine 5"
    assert imagenet.imagenet_classes().names[5] == "mine 5"
    assert reads.count("mine.txt") == 1
    mine.write_text("\n".join(f"{w} edited {k}" for k, (w, _) in enumerate(rows)))  # a changed file
    assert imagenet.imagenet_classes().names[5] == "edited 5"
    assert reads.count("mine.txt") == 2
    monkeypatch.delenv(imagenet.ENV)
    cached.write_bytes(data + b" ")  # a replaced cache file is checked again
    with pytest.raises(ConfigError, match="not the published class index"):
        imagenet.imagenet_classes()
