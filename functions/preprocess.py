"""Cloud Function `preprocess`: an object finalized in the uploads bucket → features on Pub/Sub."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from shared import startup
from shared.pipeline.events import FINALIZED, is_event_type, is_warm_up, trace_id_of
from shared.pipeline.preprocessing import prefetch_spec, preprocess_upload, warm_up

startup.prefetch("feature spec", prefetch_spec)  # metadata.json's download overlaps the start-up


@functions_framework.cloud_event
def preprocess(event: CloudEvent) -> None:
    if is_warm_up(event):
        warm_up()
        return
    if not is_event_type(event, FINALIZED, "preprocess"):
        return
    data = event.data or {}
    bucket, name, generation = data.get("bucket", ""), data.get("name", ""), int(data.get("generation") or 0)
    preprocess_upload(
        bucket=bucket,
        name=name,
        generation=generation,
        size=int(data.get("size") or 0),
        content_type=data.get("contentType") or "",
        trace_id=trace_id_of(event, bucket, name, generation),
    )
