"""The `coughcloud` command: classify offline, train, run the local stack, upload, read results."""
