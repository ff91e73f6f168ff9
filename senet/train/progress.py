"""A dependency-free progress bar on stderr: batches done, images/s, ETA and running metrics.

On a terminal the line is redrawn in place (at most 5 times a second); otherwise (logs, CI) the
bar stays silent and only the caller's per-epoch summary lines appear.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """``Progress(total, desc)``; call ``update(images, **metrics)`` per batch, then ``close()``."""

    def __init__(self, total: int, desc: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.desc = desc
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = 0
        self.images = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self.metrics: dict[str, float] = {}

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def images_per_second(self) -> float:
        return self.images / max(self.elapsed, 1e-9)

    def update(self, images: int, **metrics: float) -> None:
        self.done += 1
        self.images += images
        self.metrics.update(metrics)
        now = time.perf_counter()
        if self.tty and (now - self._last_draw > 0.2 or self.done == self.total):
            self._last_draw = now
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()

    def line(self) -> str:
        width = 20
        filled = int(width * min(self.done, self.total) / self.total)
        eta = self.elapsed / max(self.done, 1) * (self.total - self.done)
        metrics = "  ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
        return (
            f"{self.desc} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}  "
            f"{self.images_per_second:,.0f} img/s  ETA {format_seconds(eta)}  {metrics}"
        ).rstrip()

    def close(self, summary: str | None = None) -> None:
        """Finish the bar; ``summary`` (if given) replaces it as the final line."""
        if not self.enabled or (summary is None and not self.tty):  # logs: the caller's epoch line suffices
            return
        text = summary if summary is not None else self.line()
        self.stream.write(("\r" if self.tty else "") + text + ("\x1b[K" if self.tty else "") + "\n")
        self.stream.flush()
