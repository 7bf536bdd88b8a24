"""`coughcloud upload|result|watch`: the pipeline's three ways in, as a client uses them.

`upload` puts files into the uploads bucket with the official Storage client (what a
trusted uploader with service credentials does: its names are outside `users/`, so the
public API never serves them), `result` reads one result: over HTTP as the visitor of
`coughcloud login` (what the web page does), else from Firestore with the CLI's own
credentials; `watch` streams `cough-results` through a subscription of its own (what a
Pub/Sub subscriber does). Output is JSON lines. Targets come from `.local/stack.env` when
it exists (the local stack), else from the environment as it is (Google Cloud:
GOOGLE_CLOUD_PROJECT, UPLOAD_BUCKET, RESULTS_API_URL, RESULTS_TOPIC, FIREBASE_API_KEY and
application default credentials).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, BinaryIO

import requests

from local_stack.stack_env import DEFAULT_STACK_ENV, read_stack_env
from shared.config import Settings, settings
from shared.errors import InputError
from shared.names import result_key, validate_object_name
from shared.pipeline import results
from shared.pipeline.messages import FINISHED, to_json_safe

POLL_S = 0.05


def register(subparsers: argparse._SubParsersAction) -> None:
    upload = subparsers.add_parser("upload", help="upload recordings to the uploads bucket")
    upload.add_argument("files", nargs="+", type=Path, metavar="FILE")
    upload.add_argument("--prefix", default="", help="object name prefix, e.g. 'alice/' (default: none)")
    upload.add_argument("--wait", action="store_true", help="wait for each result and print it")
    upload.add_argument("--timeout", type=float, default=60.0, help="seconds to wait per result (--wait)")
    upload.set_defaults(func=run_upload)

    result = subparsers.add_parser("result", help="print the result document of one upload")
    result.add_argument("name", help="the object name, as uploaded (signed in: yours, full or short)")
    result.add_argument(
        "--direct",
        action="store_true",
        help="read Firestore with this machine's credentials even when signed in (any upload)",
    )
    result.set_defaults(func=run_result)

    watch = subparsers.add_parser("watch", help="stream results from the cough-results topic")
    watch.add_argument("--count", type=int, help="stop after this many results")
    watch.add_argument("--timeout", type=float, help="stop after this many seconds")
    watch.set_defaults(func=run_watch)

    for parser in (upload, result, watch):
        add_target_argument(parser)


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    """--env FILE: the deployment a command talks to (see configure_target)."""
    parser.add_argument(
        "--env",
        type=Path,
        help="KEY=VALUE file to target (default: .local/stack.env if it exists, else the environment)",
    )


def configure_target(env_file: Path | None) -> Settings:
    """Export the target's variables (the stack's, unless told otherwise) and read the settings."""
    path = env_file or (DEFAULT_STACK_ENV if DEFAULT_STACK_ENV.exists() else None)
    if path is not None:
        os.environ.update(read_stack_env(path))
    settings.cache_clear()
    return settings()


def _print(document: dict[str, Any]) -> None:
    print(json.dumps(document, ensure_ascii=False), flush=True)


def _api_url() -> str:
    url = os.environ.get("RESULTS_API_URL", "").rstrip("/")
    if not url:
        raise SystemExit("RESULTS_API_URL is not set: start the stack (`make run`) or point --env at one")
    return url


def fetch_result(api: str, name: str, id_token: str) -> dict[str, Any] | None:
    """One of the signed-in visitor's results, through the API (None: they have no such upload)."""
    reply = requests.get(
        f"{api}/results", params={"name": name}, headers={"Authorization": f"Bearer {id_token}"}, timeout=10
    )
    if reply.status_code == 404:
        return None
    if reply.status_code == 401:
        message = reply.json()["error"]["message"]
        raise SystemExit(f"coughcloud result: {message} Run `coughcloud login` again.")
    reply.raise_for_status()
    return reply.json()


def read_result(bucket: str, name: str) -> dict[str, Any] | None:
    """Any upload's result, straight from Firestore with this machine's credentials."""
    key = result_key(bucket, name)
    document = results.get(key)
    return None if document is None else {"key": key, **to_json_safe(document)}


def wait_for_result(bucket: str, name: str, generation: int, timeout: float) -> dict:
    """Poll until this generation is done/failed; on timeout, the last document seen (or a stub)."""
    deadline = time.monotonic() + timeout
    document: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        document = read_result(bucket, name)
        if document and document["status"] in FINISHED and int(document["generation"]) >= generation:
            return document
        time.sleep(POLL_S)
    return {"name": name, "generation": generation, "status": "timeout", "last": document}


class _Progress:
    """A file wrapper that advances a tqdm bar as the Storage client reads it."""

    def __init__(self, file: BinaryIO, bar: Any) -> None:
        self.file, self.bar = file, bar

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(size)
        self.bar.update(len(chunk))
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)


def _content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def run_upload(args: argparse.Namespace) -> int:
    from google.cloud import storage
    from tqdm import tqdm

    config = configure_target(args.env)
    missing = [str(p) for p in args.files if not p.is_file()]
    if missing:
        print(f"coughcloud upload: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        names = [validate_object_name(args.prefix + path.name) for path in args.files]
    except InputError as error:
        print(f"coughcloud upload: {error.message}", file=sys.stderr)
        return 2
    bucket = storage.Client(project=config.GOOGLE_CLOUD_PROJECT).bucket(config.UPLOAD_BUCKET)
    uploaded: list[tuple[str, int]] = []
    total = sum(path.stat().st_size for path in args.files)
    with tqdm(total=total, unit="B", unit_scale=True, desc="upload", file=sys.stderr, leave=False) as bar:
        for path, name in zip(args.files, names, strict=True):
            blob = bucket.blob(name)
            with path.open("rb") as file:
                blob.upload_from_file(
                    _Progress(file, bar), size=path.stat().st_size, content_type=_content_type(path)
                )
            uploaded.append((name, int(blob.generation)))
    if not args.wait:
        for name, generation in uploaded:
            _print(
                {"name": name, "bucket": config.UPLOAD_BUCKET, "generation": generation, "status": "uploaded"}
            )
        return 0
    finished = [wait_for_result(config.UPLOAD_BUCKET, name, gen, args.timeout) for name, gen in uploaded]
    for document in finished:
        _print(document)
    return 0 if all(d["status"] == "done" for d in finished) else 1


def run_result(args: argparse.Namespace) -> int:
    from coughcloud.commands.login import current_session, login_file
    from shared.accounts.sign_in import SignInError

    config = configure_target(args.env)
    try:
        session = None if args.direct else current_session(config, login_file(args.env))
    except SignInError as error:
        print(f"coughcloud result: {error}; run `coughcloud login` again", file=sys.stderr)
        return 1
    if session is None:
        document = read_result(config.UPLOAD_BUCKET, args.name)
    else:
        document = fetch_result(_api_url(), args.name, session.id_token)
    if document is None:
        print(f"coughcloud result: no result for {args.name!r}", file=sys.stderr)
        return 1
    _print(document)
    return 0


def run_watch(args: argparse.Namespace) -> int:
    """Create a subscription of our own on the results topic, print each result, delete it at the end."""
    from google.cloud import pubsub_v1

    config = configure_target(args.env)
    subscriber = pubsub_v1.SubscriberClient()
    project = config.GOOGLE_CLOUD_PROJECT
    subscription = subscriber.subscription_path(project, f"coughcloud-watch-{uuid.uuid4().hex[:12]}")
    subscriber.create_subscription(
        request={
            "name": subscription,
            "topic": subscriber.topic_path(project, config.RESULTS_TOPIC),
            "ack_deadline_seconds": 30,
            "expiration_policy": {"ttl": {"seconds": 86_400}},  # an abandoned watch cleans itself up
        }
    )
    print(f"watching {config.RESULTS_TOPIC} (Ctrl-C stops)", file=sys.stderr, flush=True)
    lock, enough, seen = threading.Lock(), threading.Event(), [0]

    def on_message(message: Any) -> None:
        with lock:
            if args.count is None or seen[0] < args.count:
                seen[0] += 1
                try:
                    _print(json.loads(message.data))
                except ValueError:
                    _print({"undecodable": message.data.decode(errors="replace")})
            if args.count is not None and seen[0] >= args.count:
                enough.set()
        message.ack()

    future = subscriber.subscribe(subscription, on_message)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` cleans up like Ctrl-C
    try:
        enough.wait(args.timeout)
    except KeyboardInterrupt:
        pass
    finally:
        future.cancel()
        subscriber.delete_subscription(subscription=subscription)
        subscriber.close()
    return 0
