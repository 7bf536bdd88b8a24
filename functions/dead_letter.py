"""Cloud Function `dead_letter`: a message that spent its retries marks its upload `failed`."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.dead_letters import handle_dead_letter
from shared.events import pubsub_message
from shared.logs import log_event_ignored

PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"


@functions_framework.cloud_event
def dead_letter(event: CloudEvent) -> None:
    if event["type"] != PUBLISHED:
        log_event_ignored("dead_letter", event["type"], f"this function handles {PUBLISHED} only")
        return
    message = pubsub_message(event)
    handle_dead_letter(message.data, message.attributes)
