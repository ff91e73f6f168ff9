"""Progress on stderr for long passes (training epochs, evaluation, analysis): done/total, images/s,
ETA and running metrics (loss, lr), dependency-free.

On a terminal a bar is redrawn in place (at most 5 times a second). Off a terminal (a log file, a
batch job, CI: ``senet train ... > log.txt 2>&1``) one plain line is written every
``interval`` seconds (:data:`LOG_INTERVAL`, 30 by default), so a log shows the run is alive at
least twice a minute, whatever the length of an epoch. :class:`Tracked` wraps a loader in one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

LOG_INTERVAL = 30.0
"""Seconds between two progress lines off a terminal (the first comes ``LOG_INTERVAL`` after the start)."""

_REDRAW = 0.2
"""Seconds between two redraws of the bar on a terminal."""


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (a bar) rather than a file or pipe (lines)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """``Progress(total, desc)``; call ``update(images, **metrics)`` per batch, then ``close()``.

    ``interval`` (seconds, default :data:`LOG_INTERVAL`) sets how often a line is written off a
    terminal; ``enabled=False`` writes nothing (``--quiet``, processes other than the main one).
    """

    def __init__(
        self,
        total: int,
        desc: str,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float | None = None,
    ) -> None:
        self.total = max(total, 1)
        self.desc = desc
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = enabled and is_terminal(self.stream)
        self.interval = LOG_INTERVAL if interval is None else interval
        self.done = 0
        self.images = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._last_log = self.start
        self.metrics: dict[str, float] = {}

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def images_per_second(self) -> float:
        return self.images / max(self.elapsed, 1e-9)

    @property
    def eta(self) -> float:
        """Seconds left at the mean pace so far."""
        return self.elapsed / max(self.done, 1) * max(self.total - self.done, 0)

    def update(self, images: int, **metrics: float) -> None:
        """One step (batch) of ``images`` images done; ``metrics`` (e.g. loss, lr) are shown until replaced."""
        self.done += 1
        self.images += images
        self.metrics.update(metrics)
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty and (now - self._last_draw > _REDRAW or self.done == self.total):
            self._last_draw = now
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()
        elif not self.tty and now - self._last_log >= self.interval and self.done < self.total:
            self._last_log = now
            self.stream.write(self.log_line() + "\n")
            self.stream.flush()

    def _tail(self) -> str:
        metrics = "  ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
        return f"{self.images_per_second:,.0f} img/s  ETA {format_seconds(self.eta)}  {metrics}".rstrip()

    def line(self) -> str:
        """The bar: ``desc [####......] done/total  img/s  ETA  metrics``."""
        width = 20
        filled = int(width * min(self.done, self.total) / self.total)
        return (
            f"{self.desc} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  {self._tail()}"
        )

    def log_line(self) -> str:
        """The line for logs: ``desc  step done/total (pct%)  img/s  ETA  metrics``, no control characters."""
        percent = 100 * min(self.done, self.total) / self.total
        return f"{self.desc}  step {self.done}/{self.total} ({percent:.0f}%)  {self._tail()}"

    def close(self, summary: str | None = None) -> None:
        """Finish the bar; ``summary`` (if given) replaces it as the final line."""
        if not self.enabled or (summary is None and not self.tty):  # logs: the caller's epoch line suffices
            return
        text = summary if summary is not None else self.line()
        self.stream.write(("\r" if self.tty else "") + text + ("\x1b[K" if self.tty else "") + "\n")
        self.stream.flush()


def _batch_size(batch: Any) -> int:
    """Images in a batch: the length of a tensor, or of the first item of an (images, labels) pair."""
    first = batch[0] if isinstance(batch, tuple | list) and batch else batch
    try:
        return len(first)
    except TypeError:
        return 1


class Tracked:
    """A loader whose every pass shows a :class:`Progress` (a bar, or lines off a terminal) of the
    batches done; its length and other attributes are the loader's. The bar of a pass closes with
    the pass (finished, broken off or failed)."""

    def __init__(self, loader: Any, desc: str, *, enabled: bool = True, interval: float | None = None,
                 stream: TextIO | None = None) -> None:  # fmt: skip
        self.loader, self.desc, self.enabled, self.interval, self.stream = (
            loader,
            desc,
            enabled,
            interval,
            stream,
        )

    def __iter__(self) -> Iterator[Any]:
        total = len(self.loader) if hasattr(self.loader, "__len__") else 0
        bar = Progress(total, self.desc, enabled=self.enabled, stream=self.stream, interval=self.interval)
        try:
            for batch in self.loader:
                yield batch
                bar.update(_batch_size(batch))
        finally:
            bar.close()

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)
