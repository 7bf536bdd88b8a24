"""Cloud Function `predict`: a features message → the model's answer in Firestore and on `cough-results`."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared import startup
from shared.pipeline.events import PUBLISHED, is_event_type, is_warm_up, pubsub_message
from shared.pipeline.prediction import predict_features, prefetch_model, warm_up

startup.prefetch("model", prefetch_model)  # the download overlaps the rest of the start-up


@functions_framework.cloud_event
def predict(event: CloudEvent) -> None:
    if is_warm_up(event):
        warm_up()
        return
    if not is_event_type(event, PUBLISHED, "predict"):
        return
    message = pubsub_message(event)
    predict_features(message.data, message.attributes, message.delivery_attempt)
