"""Errors the ops commands report as one line."""


class OpsError(Exception):
    """The command could not run (configuration, credentials, AWS errors): exit 2."""


class CheckFailed(Exception):
    """The command ran and its check failed (verification, drift, rejected nonce): exit 1."""
