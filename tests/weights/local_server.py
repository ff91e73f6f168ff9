"""A file server on 127.0.0.1 for the download tests: each path serves bytes, a 404, or a
transfer cut short (full Content-Length announced, the connection closed half way)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    status: int = 200
    cut_at: int | None = None
    """Close the connection after this many bytes of ``body`` (None: send it all)."""


@dataclass
class LocalServer:
    """The routes, the requests seen (paths, in order) and the base URL."""

    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


def _handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            server.requests.append(self.path)
            route = server.routes.get(self.path, Route(status=404))
            self.send_response(route.status)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if route.status != 200:
                return
            self.wfile.write(route.body if route.cut_at is None else route.body[: route.cut_at])
            self.wfile.flush()
            if route.cut_at is not None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def serve() -> Iterator[LocalServer]:
    """A running server on 127.0.0.1 (port chosen by the OS), stopped on exit."""
    state = LocalServer("")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def refused_url(path: str) -> str:
    """A URL on 127.0.0.1 whose port nothing listens on (the connection is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
