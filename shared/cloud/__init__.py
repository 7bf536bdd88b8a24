"""Clients for Google Cloud services (Firestore, Storage, Pub/Sub), created once per process on first use."""
