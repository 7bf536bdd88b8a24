"""Sub-commands of `coughcloud`, one module each (see coughcloud/cli.py)."""
