"""A stand-in for preprocess or predict: an HTTP server on a free port that records warm-ups."""

from __future__ import annotations

import http.server
import threading
from typing import Any

from local_stack.processes import free_port


class Function:
    """A stand-in function: records each request; answers `status` once `release` is set."""

    def __init__(self, status: int = 204) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.received = threading.Event()
        self.release = threading.Event()
        function = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                function.requests.append((self.path, dict(self.headers), body))
                function.received.set()
                function.release.wait(10)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def count(self) -> int:
        return len(self.requests)
