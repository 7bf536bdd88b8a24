"""The local stack: real emulators of Storage, Pub/Sub and Firestore, the Eventarc bridge, and the functions."""
