"""The local stack: emulators of Storage, Pub/Sub and Firestore, the Eventarc bridge, the functions."""
