"""Accounts: who is calling (Firebase ID tokens), which names are theirs, and erasing their data."""
