"""Downloads in a log (stderr not a terminal): a line at the start and one at the end, no bar."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from local_server import Route, serve

from senet.weights import hub

BODY = bytes(range(256)) * 16
NAME = f"tiny-{hashlib.sha256(BODY).hexdigest()[:8]}.pth"


def test_a_download_off_a_terminal_prints_start_and_finish_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    with serve() as server:
        server.routes["/" + NAME] = Route(BODY)
        path = hub.fetch_file([server.url("/" + NAME)], NAME, cache=tmp_path)
        lines = capsys.readouterr().err.splitlines()
        assert lines[0] == f"downloading {NAME} from {server.url('/' + NAME)}"
        assert lines[1].startswith(f"downloaded {NAME}: 0.0 MiB in ") and lines[1].endswith(
            f"verified, at {path}"
        )
        assert len(lines) == 2  # torch.hub's bar (\r redraws) stays off in a log
        hub.fetch_file([server.url("/" + NAME)], NAME, cache=tmp_path, progress=False)
        assert capsys.readouterr().err == ""
