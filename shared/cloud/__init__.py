"""Clients for Google Cloud services (Storage, Pub/Sub), created once per process on first use."""
