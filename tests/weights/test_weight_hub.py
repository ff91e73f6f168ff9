"""Verified downloads against a file server on 127.0.0.1: hash match, hash mismatch, a transfer
cut short, mirror fallback, and the shared torch.hub cache. Nothing here leaves 127.0.0.1."""

from __future__ import annotations

import hashlib
import socket
import time
from pathlib import Path

import pytest
import torch
from local_server import LocalServer, Route, refused_url, serve

from senet.weights import hub
from senet.weights import pretrained as registry

BODY = bytes(range(256)) * 64  # 16 KiB
DIGEST = hashlib.sha256(BODY).hexdigest()
NAME = f"tiny-{DIGEST[:8]}.pth"


@pytest.fixture
def torch_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """torch.hub's folder under tmp_path, SENET_CACHE unset, no proxy for 127.0.0.1; returns
    the checkpoint folder the downloads must land in."""
    monkeypatch.delenv("SENET_CACHE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.fixture
def server() -> LocalServer:
    with serve() as state:
        yield state


def _fetch(urls: list[str], *, sha256: str | None = DIGEST, name: str = NAME) -> Path:
    return hub.fetch_file(urls, name, sha256=sha256, progress=False)


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_cache_is_torch_hubs_checkpoint_folder(torch_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert hub.cache_dir() == torch_home == Path(torch.hub.get_dir()) / "checkpoints"
    monkeypatch.setenv("SENET_CACHE", str(torch_home.parent / "elsewhere"))
    assert hub.cache_dir() == torch_home.parent / "elsewhere"


def test_hash_match_downloads_once_then_reuses(torch_home: Path, server: LocalServer) -> None:
    server.routes["/a/" + NAME] = Route(BODY)
    path = _fetch([server.url("/a/" + NAME)])
    assert path == torch_home / NAME and path.read_bytes() == BODY
    assert _left(torch_home) == [NAME]
    assert _fetch([server.url("/a/" + NAME)]) == path
    assert server.requests == ["/a/" + NAME]  # the second call used the cached file


def test_file_fetched_by_another_library_is_reused(torch_home: Path, server: LocalServer) -> None:
    torch_home.mkdir(parents=True)
    (torch_home / NAME).write_bytes(BODY)  # e.g. torch.hub.load_state_dict_from_url put it there
    assert _fetch([server.url("/a/" + NAME)]).read_bytes() == BODY
    assert server.requests == []


def test_full_hash_mismatch_is_an_error_and_leaves_nothing(torch_home: Path, server: LocalServer) -> None:
    server.routes["/a/" + NAME] = Route(BODY)
    wrong = DIGEST[:8] + "0" * 56  # the file-name prefix matches, the full sha256 does not
    with pytest.raises(hub.PretrainedUnavailableError, match="does not match the expected") as err:
        _fetch([server.url("/a/" + NAME)], sha256=wrong)
    assert DIGEST in str(err.value) and str(torch_home / NAME) in str(err.value)
    assert _left(torch_home) == []


def test_prefix_mismatch_is_an_error_and_leaves_nothing(torch_home: Path, server: LocalServer) -> None:
    server.routes["/a/" + NAME] = Route(b"not the weights" + BODY)
    with pytest.raises(hub.PretrainedUnavailableError, match="does not match its hash"):
        _fetch([server.url("/a/" + NAME)], sha256=None)
    assert _left(torch_home) == []


def test_tampered_cached_file_is_refused_not_replaced(torch_home: Path, server: LocalServer) -> None:
    torch_home.mkdir(parents=True)
    (torch_home / NAME).write_bytes(BODY[:-1] + b"\x00")
    server.routes["/a/" + NAME] = Route(BODY)
    with pytest.raises(hub.PretrainedUnavailableError, match="delete it and download again"):
        _fetch([server.url("/a/" + NAME)])
    assert server.requests == []


@pytest.mark.parametrize("full_hash", [True, False])
def test_interrupted_transfer_leaves_nothing_then_a_retry_succeeds(
    torch_home: Path, server: LocalServer, full_hash: bool
) -> None:
    server.routes["/a/" + NAME] = Route(BODY, cut_at=len(BODY) // 2)
    sha = DIGEST if full_hash else None
    with pytest.raises(hub.PretrainedUnavailableError, match="does not match"):
        _fetch([server.url("/a/" + NAME)], sha256=sha)
    assert _left(torch_home) == []  # no partial file, nothing under the final name
    server.routes["/a/" + NAME] = Route(BODY)
    assert _fetch([server.url("/a/" + NAME)], sha256=sha).read_bytes() == BODY
    assert server.requests == ["/a/" + NAME] * 2


def test_mirror_fallback_after_404(torch_home: Path, server: LocalServer) -> None:
    server.routes["/mirror/" + NAME] = Route(BODY)
    path = _fetch([server.url("/gone/" + NAME), server.url("/mirror/" + NAME)])
    assert path.read_bytes() == BODY and _left(torch_home) == [NAME]
    assert server.requests == ["/gone/" + NAME, "/mirror/" + NAME]


def test_mirror_fallback_after_refused_connection(torch_home: Path, server: LocalServer) -> None:
    server.routes["/mirror/" + NAME] = Route(BODY)
    assert _fetch([refused_url("/a/" + NAME), server.url("/mirror/" + NAME)]).read_bytes() == BODY


def test_mirror_fallback_after_a_corrupt_mirror(torch_home: Path, server: LocalServer) -> None:
    server.routes["/bad/" + NAME] = Route(b"x" * 100)
    server.routes["/good/" + NAME] = Route(BODY)
    assert _fetch([server.url("/bad/" + NAME), server.url("/good/" + NAME)]).read_bytes() == BODY


def test_every_mirror_failing_lists_each_and_the_path(torch_home: Path, server: LocalServer) -> None:
    urls = [server.url("/gone/" + NAME), refused_url("/a/" + NAME)]
    with pytest.raises(hub.PretrainedUnavailableError) as err:
        _fetch(urls)
    text = str(err.value)
    assert all(url in text for url in urls) and "404" in text and str(torch_home / NAME) in text
    assert _left(torch_home) == []


def test_a_file_without_any_hash_is_not_downloaded(torch_home: Path, server: LocalServer) -> None:
    server.routes["/a/tiny.pth"] = Route(BODY)
    with pytest.raises(ValueError, match="no sha256 and no hash prefix"):
        _fetch([server.url("/a/tiny.pth")], sha256=None, name="tiny.pth")
    assert server.requests == []


def test_fetch_by_tag_through_the_registry(
    torch_home: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/m2/" + NAME] = Route(BODY)
    entry = registry.PretrainedEntry(
        "se_resnet18", (server.url("/m1/" + NAME), server.url("/m2/" + NAME)), "cadene", "test", None, DIGEST,
        origin="local",
    )  # fmt: skip
    monkeypatch.setitem(registry.TAGS, entry.tag, entry)
    assert registry.fetch("se_resnet18.local", progress=False) == torch_home / NAME
    assert server.requests == ["/m1/" + NAME, "/m2/" + NAME]


def test_a_mirror_that_never_answers_times_out_and_the_next_is_tried(
    torch_home: Path, server: LocalServer
) -> None:
    server.routes["/b/" + NAME] = Route(BODY)
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        mute = f"http://127.0.0.1:{silent.getsockname()[1]}/" + NAME
        tic = time.monotonic()
        with pytest.raises(hub.PretrainedUnavailableError, match=r"no answer within 0.3 s"):
            hub.fetch_file([mute], NAME, sha256=DIGEST, progress=False, timeout=0.3)
        assert time.monotonic() - tic < 10
        assert _left(torch_home) == []  # nothing half-downloaded kept
        path = hub.fetch_file(
            [mute, server.url("/b/" + NAME)], NAME, sha256=DIGEST, progress=False, timeout=0.3
        )
    assert path.read_bytes() == BODY and server.requests == ["/b/" + NAME]
    assert socket.getdefaulttimeout() is None  # the process-wide default is restored
