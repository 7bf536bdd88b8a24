"""What the stack creates on the emulators: buckets, topics, subscriptions, the model, a signing key.

On Google Cloud the same things come from `infra/terraform/`; here they are made with the
official clients, pointed at the emulators by the variables in `Emulators.env()`.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.api_core.exceptions import AlreadyExists, Conflict
from google.cloud import pubsub_v1, storage

from local_stack.emulators import UPLOAD_EVENTS_TOPIC
from local_stack.processes import StartupError
from shared.config import BUNDLED_MODEL_DIR, Settings

# Serving reads metadata.json and the model file it names (docs/design/contracts.md, "Model
# artifact"); the rest (the Keras model, the training report) stays in the repository.
METADATA_FILE = "metadata.json"
# Long enough for a slow first prediction; a nack makes a message due at once anyway.
ACK_DEADLINE_S = 60


@dataclass(frozen=True)
class Trigger:
    """One Eventarc trigger: a subscription on `topic` whose messages go to `function`."""

    function: str
    topic: str
    subscription: str
    dead_letter_topic: str | None


def triggers(config: Settings) -> list[Trigger]:
    """The four triggers of the deployment (infra/terraform/ has the same ones)."""
    return [
        Trigger("preprocess", UPLOAD_EVENTS_TOPIC, "preprocess-trigger", config.UPLOADS_DEAD_LETTER_TOPIC),
        Trigger("predict", config.FEATURES_TOPIC, "predict-trigger", config.FEATURES_DEAD_LETTER_TOPIC),
        Trigger("dead_letter", config.UPLOADS_DEAD_LETTER_TOPIC, "dead-letter-uploads-trigger", None),
        Trigger("dead_letter", config.FEATURES_DEAD_LETTER_TOPIC, "dead-letter-features-trigger", None),
    ]


def inspection_subscription(dead_letter_topic: str) -> str:
    """A pull subscription that keeps every dead-lettered message to look at (as in infra/terraform/)."""
    return f"{dead_letter_topic}-inspect"


def model_uri(config: Settings, model_dir: Path = BUNDLED_MODEL_DIR) -> str:
    """Where the stack puts a model folder: gs://MODEL_BUCKET/<name>/<version> of its metadata.json."""
    meta = json.loads((model_dir / "metadata.json").read_text())
    return f"gs://{config.MODEL_BUCKET}/{meta['name']}/{meta['version']}"


def check_model_dir(model_dir: Path) -> None:
    """`coughcloud up --model DIR`: a folder the stack can serve, checked as `models push` checks
    one (metadata.json and the model file it names, names the registry takes, labels, a model
    that runs on features of its own spec) before anything starts; StartupError saying why not
    otherwise."""
    from shared.registry.artifacts import (
        check_model,
        check_model_name,
        check_version_name,
        model_file_of,
        read_json_object,
    )
    from shared.registry.pointer import Refusal

    try:
        meta = read_json_object(model_dir / METADATA_FILE)
        model_path = model_dir / model_file_of(meta, str(model_dir))
        model = model_path.read_bytes()
    except OSError as error:
        raise StartupError(f"--model {model_dir}: cannot read {error.filename}: {error.strerror}") from None
    except Refusal as refusal:
        raise StartupError(f"--model {model_dir}: {refusal}") from None
    try:
        check_model_name(meta.get("name"))
        check_version_name(meta.get("version"))
        check_model(model, meta, str(model_dir))
    except Refusal as refusal:
        raise StartupError(f"--model: {refusal}") from None


def create_buckets(config: Settings) -> None:
    client = storage.Client(project=config.GOOGLE_CLOUD_PROJECT)
    for name in (config.UPLOAD_BUCKET, config.MODEL_BUCKET):
        with contextlib.suppress(Conflict):
            client.create_bucket(name)


def upload_model(config: Settings, model_dir: Path) -> str:
    """Copy a model folder (a shipped version, or `up --model`'s) into the models bucket; its URI."""
    from shared.registry.artifacts import model_file_of

    uri = model_uri(config, model_dir)
    prefix = uri.removeprefix(f"gs://{config.MODEL_BUCKET}/")
    bucket = storage.Client(project=config.GOOGLE_CLOUD_PROJECT).bucket(config.MODEL_BUCKET)
    meta = json.loads((model_dir / METADATA_FILE).read_text())
    for file_name in (METADATA_FILE, model_file_of(meta, str(model_dir))):
        bucket.blob(f"{prefix}/{file_name}").upload_from_filename(str(model_dir / file_name))
    return uri


def shipped_model_dirs() -> list[Path]:
    """Every version folder shipped beside the default model (models/<name>/<version>/)."""
    return sorted(d for d in BUNDLED_MODEL_DIR.parent.iterdir() if (d / "metadata.json").is_file())


def upload_shipped_models(config: Settings) -> str:
    """Copy every shipped version into the models bucket (the older ones are there to roll back
    to, as on Cloud); return the default's MODEL_URI."""
    for model_dir in shipped_model_dirs():
        upload_model(config, model_dir)
    return model_uri(config)


def seed_model_pointer(config: Settings, model_dir: Path = BUNDLED_MODEL_DIR) -> bool:
    """The pointer document's first champion, the served model folder (as Terraform seeds it on
    Cloud); whether it was created (never overwritten)."""
    from shared.registry.artifacts import default_location
    from shared.registry.store import seed_champion

    location = default_location(model_uri(config, model_dir))
    return seed_champion(location.registry.name, location.version, "coughcloud up")


def create_topics_and_subscriptions(config: Settings) -> None:
    """Every topic, then the trigger and inspection subscriptions (topics must exist first)."""
    project = config.GOOGLE_CLOUD_PROJECT
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    all_triggers = triggers(config)
    topics = {UPLOAD_EVENTS_TOPIC, config.RESULTS_TOPIC} | {t.topic for t in all_triggers}
    for topic in sorted(topics):
        with contextlib.suppress(AlreadyExists):
            publisher.create_topic(name=publisher.topic_path(project, topic))
    subscriptions = {t.subscription: t.topic for t in all_triggers}
    subscriptions |= {inspection_subscription(t.dead_letter_topic): t.dead_letter_topic
                      for t in all_triggers if t.dead_letter_topic}  # fmt: skip
    for subscription, topic in subscriptions.items():
        with contextlib.suppress(AlreadyExists):
            subscriber.create_subscription(
                name=subscriber.subscription_path(project, subscription),
                topic=publisher.topic_path(project, topic),
                ack_deadline_seconds=ACK_DEADLINE_S,
            )
    subscriber.close()


def signing_key_file(path: Path, project: str) -> Path:
    """A throwaway service-account key (RSA 2048) for V4-signing URLs to the storage emulator.

    Made once and reused; it signs nothing but local emulator URLs.
    """
    if path.is_file():
        return path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    email = f"local-signer@{project}.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": "local-stack",
        "private_key": pem.decode(),
        "client_email": email,
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))
    path.chmod(0o600)
    return path
