"""Verified downloads into torch.hub's shared checkpoint cache, one mirror after another.

Files land in ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``; by default
``~/.cache/torch/hub/checkpoints``), the folder ``torch.hub.load_state_dict_from_url`` and timm's
URL downloads use, so a file another library already fetched under the same name is reused.
``$SENET_CACHE``, when set, replaces that folder.

Each URL is fetched by ``torch.hub.download_url_to_file`` (a progress bar on a terminal, a line
at the start and the end in a log; the file-name hash prefix checked while reading) into a temporary name next to the target; the full sha256 is then
checked where it is known, and only a verified file is renamed to its final name. A failed or
truncated transfer, or a file with the wrong hash, leaves nothing under the final name, and the
next mirror is tried. A mirror that does not answer (no byte for :data:`TIMEOUT_SECONDS`, while
connecting or while reading) counts as failed too: torch.hub's downloader takes no timeout, so the
socket module's default timeout is set around it (process-wide while the download runs).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import sys
import time
import urllib.error
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch.hub

from senet.errors import SenetError

TIMEOUT_SECONDS = 30.0
"""How long a mirror may stay silent (connecting, or between two reads) before it counts as failed."""


class PretrainedUnavailableError(SenetError):
    """No verified copy of the weights could be found or fetched."""


def cache_dir() -> Path:
    """``$SENET_CACHE`` if set, else torch.hub's checkpoint folder (``$TORCH_HOME`` moves it)."""
    override = os.environ.get("SENET_CACHE")
    return Path(override) if override else Path(torch.hub.get_dir()) / "checkpoints"


def hash_prefix(filename: str) -> str | None:
    """The hex digits after the last '-' of a file name: torch.hub's sha256 prefix convention."""
    m = re.search(r"-([0-9a-f]{8,64})\.\w+$", filename)
    return m.group(1) if m else None


def sha256_file(path: str | Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path, sha256: str | None, prefix: str | None) -> None:
    """Raise :class:`PretrainedUnavailableError` unless ``path`` has the full ``sha256`` (when
    known) or a sha256 that starts with the file-name ``prefix``."""
    want = sha256 or prefix
    if want is None:
        return
    got = sha256_file(path)
    if not got.startswith(want):
        what = f"the expected {want}" if sha256 else f"the file-name prefix {want}"
        raise PretrainedUnavailableError(f"sha256 {got} does not match {what}")


def _terminal() -> bool:
    """Whether stderr is a terminal (torch.hub's bar) rather than a log (start and finish lines)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def socket_timeout(seconds: float) -> Iterator[None]:
    """New sockets time out after ``seconds`` of silence inside (the process-wide default, restored)."""
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)


def _timed_out(err: BaseException) -> bool:
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    return isinstance(reason, TimeoutError)


def _describe(err: BaseException) -> str:
    if isinstance(err, RuntimeError):  # torch.hub's prefix check while reading
        return f"the downloaded file does not match its hash ({err})"
    if isinstance(err, PretrainedUnavailableError):
        return f"the downloaded file's {err}"
    return f"{type(err).__name__}: {err}"


def fetch_file(
    urls: Sequence[str],
    filename: str,
    *,
    sha256: str | None = None,
    cache: str | Path | None = None,
    progress: bool = True,
    timeout: float = TIMEOUT_SECONDS,
) -> Path:
    """The verified local copy of ``filename``: the cached one, else the first mirror that works
    (one silent for ``timeout`` seconds has failed).

    A cached file with the wrong hash is an error (it is not replaced silently); a download with
    the wrong hash is discarded and the next URL tried. When every URL fails the error lists
    each one with its reason and the path to put a copy fetched by other means.
    """
    folder = Path(cache) if cache is not None else cache_dir()
    path = folder / filename
    prefix = hash_prefix(filename)
    if path.is_file():
        try:
            check_file(path, sha256, prefix)
        except PretrainedUnavailableError as err:
            raise PretrainedUnavailableError(f"{path}: {err}; delete it and download again") from None
        return path
    if sha256 is None and prefix is None:
        raise ValueError(f"refusing to download {filename}: no sha256 and no hash prefix in its name")
    folder.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for url in urls:
        partial = folder / f".{filename}.{uuid.uuid4().hex}.download"
        try:
            lines = progress and not _terminal()  # a bar on a terminal; in logs a line before and after
            if lines:
                print(f"downloading {filename} from {url}", file=sys.stderr, flush=True)
            tic = time.perf_counter()
            with socket_timeout(timeout):
                torch.hub.download_url_to_file(
                    url, str(partial), hash_prefix=prefix, progress=progress and not lines
                )
            check_file(partial, sha256, prefix)
            os.replace(partial, path)  # atomic: the final name only ever holds a verified file
            if lines:
                size = path.stat().st_size / 2**20
                print(f"downloaded {filename}: {size:.1f} MiB in {time.perf_counter() - tic:.1f} s, "
                      f"verified, at {path}", file=sys.stderr, flush=True)  # fmt: skip
            return path
        except (OSError, RuntimeError, http.client.HTTPException, PretrainedUnavailableError) as err:
            why = f"no answer within {timeout:g} s ({err})" if _timed_out(err) else _describe(err)
            failures.append(f"  {url}: {why}")
        finally:
            partial.unlink(missing_ok=True)
    tried = "\n".join(failures)
    raise PretrainedUnavailableError(
        f"could not download {filename} from any mirror:\n{tried}\nOffline? Fetch that file elsewhere "
        f"and put it at {path} (or set SENET_CACHE to the folder that holds {filename})"
    )


__all__ = [
    "PretrainedUnavailableError",
    "cache_dir",
    "check_file",
    "fetch_file",
    "hash_prefix",
    "sha256_file",
]
