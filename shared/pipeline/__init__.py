"""The pipeline's state: events in, messages between stages, the result documents and each stage's work."""
