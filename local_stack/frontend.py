"""Serves the built upload page (`frontend_stub/dist/`) and its `/config.json` at FRONTEND_URL.

The page reads its API address and Firebase settings from `/config.json`, so the same build
works against the local stack or a deployment:
`{"apiUrl", "firebase": {"apiKey", "authDomain", "projectId", "authEmulatorUrl"}}`
(`authEmulatorUrl` only here: on Google Cloud the page signs in with the real service).
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.config import REPO_ROOT

DIST = REPO_ROOT / "frontend_stub" / "dist"
NOT_BUILT = (
    b"<!doctype html><title>CoughCloud</title><p>The upload page is not built: run "
    b"<code>make setup</code> (it builds <code>frontend_stub/dist/</code>), then restart the stack.</p>"
)


def firebase_web_config(env: Mapping[str, str]) -> dict[str, Any]:
    """The page's Firebase settings for the stack whose variables are `env`."""
    project = env["GOOGLE_CLOUD_PROJECT"]
    return {
        "apiKey": env["FIREBASE_API_KEY"],
        "authDomain": f"{project}.firebaseapp.com",
        "projectId": project,
        "authEmulatorUrl": f"http://{env['FIREBASE_AUTH_EMULATOR_HOST']}",
    }


class _Handler(http.server.SimpleHTTPRequestHandler):
    config_json: bytes = b"{}"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            self._reply(self.config_json, "application/json")
        elif not Path(self.directory, "index.html").is_file() and path in ("/", "/index.html"):
            self._reply(NOT_BUILT, "text/html; charset=utf-8")
        else:
            super().do_GET()

    def _reply(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the page's requests are not logs
        pass


class FrontendServer:
    """A threaded static server on 127.0.0.1:`port`, run on a daemon thread of the supervisor."""

    def __init__(self, port: int, api_url: str, firebase: dict[str, Any], dist: Path = DIST) -> None:
        config = json.dumps({"apiUrl": api_url, "firebase": firebase}).encode()
        handler = type("Handler", (_Handler,), {"config_json": config})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(handler, directory=str(dist))
        )
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="frontend", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
