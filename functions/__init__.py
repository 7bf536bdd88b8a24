"""Thin Cloud Functions entry points: parse the event, call into shared/."""
