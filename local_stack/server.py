"""`python -m local_stack.server`: one function under functions-framework's own server, as its
CLI starts it (same app, same gunicorn), with the request limits set.

functions-framework's CLI turns gunicorn's request-line limit off (`limit_request_line=0`: a
URL of any length is read into memory) and has no option to set limits. Here the request line
and each header line are capped at gunicorn's usual 8,190 bytes and the header count at 100:
beyond them gunicorn itself answers 414 / 431 / 400 before the app runs (its own short
HTML reply). Below them results_api refuses header blocks over its own budget with a JSON 431
that carries CORS (shared/http/api.py). docs/concepts/security.md compares Cloud Run.
"""

from __future__ import annotations

import argparse

from functions_framework import create_app
from functions_framework._http import create_server

LIMITS = {"limit_request_line": 8190, "limit_request_field_size": 8190, "limit_request_fields": 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    create_server(create_app(args.target, args.source), False, **LIMITS).run(args.host, args.port)


if __name__ == "__main__":
    main()
