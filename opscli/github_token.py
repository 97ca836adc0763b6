"""``set-github-token``: the value comes from stdin and goes only to SSM.

At most MAX_STDIN_CHARS (4096) characters of stdin are read. The value is
never printed, logged, put in an exception message or passed on a
command line (where ``ps`` would show it).
"""
from __future__ import annotations

import getpass
import sys

from botocore.exceptions import ClientError

from .errors import OpsError
from .session import Aws, secrets_key_alias


BOM = "\ufeff"
# A nonce is 43 characters, a GitHub token at most 255 (docs/requirements.md#operator-input):
# stdin beyond this is refused after reading this much, never read to its end.
MAX_STDIN_CHARS = 4096


def read_secret(stream=None, *, prompt: str, what: str, usage: str) -> str:
    """One secret from stdin (hidden when typed at a terminal), checked before any AWS call.

    A UTF-8 byte order mark (what some Windows editors put first in a file)
    is dropped: it is never part of a token or nonce, and stored with it the
    value would never match.
    """
    stream = stream or sys.stdin
    try:
        raw = getpass.getpass(prompt) if stream.isatty() else stream.read(MAX_STDIN_CHARS + 1)
    except UnicodeDecodeError:
        raise OpsError(f"the {what} on stdin is not UTF-8 text") from None
    if len(raw) > MAX_STDIN_CHARS:
        raise OpsError(f"more than {MAX_STDIN_CHARS} characters on stdin: not one {what}; pass exactly one {what}")
    value = raw.lstrip(BOM).strip()
    if not value:
        raise OpsError(f"no {what} on stdin (pipe it in: {usage})")
    if any(c.isspace() for c in value):
        raise OpsError(f"the {what} contains whitespace; pass exactly one {what}")
    if BOM in value or not value.isprintable() or not value.isascii():
        raise OpsError(f"the {what} contains control or non-ASCII characters; pass exactly one {what}")
    return value


def read_token(stream=None) -> str:
    return read_secret(stream, prompt="GitHub token (input hidden): ", what="token",
                       usage="bin/ops set-github-token --env staging < token-file")


def store(aws: Aws, token: str) -> int:
    name = aws.config.github_token_parameter
    try:
        result = aws.client("ssm").put_parameter(
            Name=name, Value=token, Type="SecureString", KeyId=secrets_key_alias(aws.config), Overwrite=True,
            Description="GitHub token for the Oracle; set with bin/ops set-github-token")
    except ClientError as exc:
        # The error text comes from AWS and never contains the value.
        raise OpsError(f"cannot store {name}: {exc.response['Error']['Code']}") from None
    return int(result["Version"])
