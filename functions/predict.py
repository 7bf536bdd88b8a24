"""Cloud Function `predict`: a features message → the model's answer in Firestore and on `cough-results`."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.events import pubsub_message
from shared.logs import log_event_ignored
from shared.prediction import predict_features

PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


@functions_framework.cloud_event
def predict(event: CloudEvent) -> None:
    if event["type"] != PUBLISHED:
        log_event_ignored("predict", event["type"], f"this function handles {PUBLISHED} only")
        return
    message = pubsub_message(event)
    predict_features(message.data, message.attributes, message.delivery_attempt)
