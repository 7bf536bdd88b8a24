"""The one place that reads configuration: environment variables, with defaults.

The same code runs locally (the emulators' variables, written to `.local/stack.env`)
and on Google Cloud (set by `infra/terraform/functions.tf`); only these values differ.
Every variable the functions read is a field here, named as in the environment.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL_DIR = REPO_ROOT / "models" / "cough-classifier" / "1.5.0"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    # Where things live.
    # Locally a `demo-` project: the Firebase Auth emulator then works offline, touching no real project.
    GOOGLE_CLOUD_PROJECT: str = "demo-coughcloud"
    UPLOAD_BUCKET: str = "coughcloud-uploads"
    MODEL_BUCKET: str = "coughcloud-models"
    FEATURES_TOPIC: str = "audio-features"
    RESULTS_TOPIC: str = "cough-results"
    RESULTS_COLLECTION: str = "results"
    # Short-lived records of erased names and accounts (shared/accounts/tombstones.py).
    TOMBSTONES_COLLECTION: str = "tombstones"
    # Where a message goes once its retry budget is spent (docs/design/contracts.md, "Status lifecycle").
    UPLOADS_DEAD_LETTER_TOPIC: str = "upload-events-dead-letter"
    FEATURES_DEAD_LETTER_TOPIC: str = "audio-features-dead-letter"
    MAX_DELIVERY_ATTEMPTS: int = 5
    # Emulator endpoints (empty on Google Cloud); the Google clients read them too.
    STORAGE_EMULATOR_HOST: str = ""
    FIRESTORE_EMULATOR_HOST: str = ""
    # The model: a `gs://bucket/name/version` folder or a local path. Its parent folder is the
    # model's registry (`<name>/<version>/`, shared/registry/); this version serves until a
    # pointer document `MODELS_COLLECTION/<name>` names a champion.
    MODEL_URI: str = str(BUNDLED_MODEL_DIR)
    MODELS_COLLECTION: str = "models"
    # How long preprocess and predict trust their copy of the pointer document (at most 30 s).
    MODEL_POINTER_TTL_S: float = 10.0
    # Input limits (docs/design/contracts.md, "Input limits": 30 s, 20 MB).
    MAX_UPLOAD_BYTES: int = 20 * 1024 * 1024
    MAX_DURATION_S: float = 30.0
    MIN_DURATION_S: float = 0.25
    SILENCE_DBFS: float = -60.0
    DECODE_TIMEOUT_S: float = 10.0
    # The HTTP reader.
    CORS_ALLOWED_ORIGINS: str = ""
    # 1: every API call needs a Firebase App Check token (shared/http/app_check.py); 0: off.
    APP_CHECK_REQUIRED: int = 0
    SIGNED_URL_EXPIRY_S: int = 900
    # Warm-up (POST /warm, POST /uploads): the functions results_api starts ahead of an upload
    # (empty: not warmed) and how often one results_api instance may warm each, at most.
    PREPROCESS_URL: str = ""
    PREDICT_URL: str = ""
    WARM_UP_INTERVAL_S: float = 60.0
    # 1: a new results_api instance warms them as it starts, before its first request is handled
    # (an instance starts because a visitor or client is arriving); 0: only POST /warm and
    # POST /uploads do (the local stack, which starts every function itself).
    WARM_UP_ON_START: int = 1
    # Service account that signs upload URLs on Google Cloud (IAM signBlob); empty locally.
    SIGNING_SERVICE_ACCOUNT: str = ""
    # Local stack only: a service-account key file used to sign URLs for the emulator.
    SIGNING_KEY_FILE: str = ""
    # How long an upload and its result are kept (Firestore TTL on `expire_at`, the bucket's
    # lifecycle rule in Terraform); an owner can erase them sooner (DELETE /results, DELETE /me).
    RETENTION_DAYS: int = 30
    # Accounts: the Firebase Auth emulator (local stack ONLY: with it set, firebase-admin accepts
    # unsigned tokens, so it must never reach a deployed function) and the web API key the
    # page and `coughcloud login` sign in with.
    FIREBASE_AUTH_EMULATOR_HOST: str = ""
    FIREBASE_API_KEY: str = ""
    LOG_LEVEL: str = "INFO"

    @classmethod
    def from_env(cls) -> Settings:
        values = {}
        for f in fields(cls):
            default = getattr(cls, f.name)
            raw = _env(f.name, str(default))
            try:
                values[f.name] = type(default)(raw)
            except ValueError:
                kind = type(default).__name__
                raise ValueError(f"environment variable {f.name}={raw!r} is not a valid {kind}") from None
        return cls(**values)

    @property
    def cors_origins(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.CORS_ALLOWED_ORIGINS.split(",") if o.strip())


@functools.cache
def settings() -> Settings:
    """Settings for this process, read once (functions are configured at deploy time)."""
    return Settings.from_env()
