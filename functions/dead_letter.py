"""Cloud Function `dead_letter`: a message that spent its retries marks its upload `failed`."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared.pipeline.dead_letters import handle_dead_letter
from shared.pipeline.events import PUBLISHED, is_event_type, pubsub_message


@functions_framework.cloud_event
def dead_letter(event: CloudEvent) -> None:
    if not is_event_type(event, PUBLISHED, "dead_letter"):
        return
    message = pubsub_message(event)
    handle_dead_letter(message.data, message.attributes)
