"""``set-github-token``: the value comes from stdin and goes only to SSM.

It is never printed, logged, put in an exception message or passed on a
command line (where ``ps`` would show it).
"""
from __future__ import annotations

import getpass
import sys

from botocore.exceptions import ClientError

from .errors import OpsError
from .session import Aws, secrets_key_alias


def read_token(stream=None) -> str:
    stream = stream or sys.stdin
    if stream.isatty():
        token = getpass.getpass("GitHub token (input hidden): ")
    else:
        token = stream.read()
    token = token.strip()
    if not token:
        raise OpsError("no token on stdin (pipe it in: bin/ops set-github-token --env staging < token-file)")
    if any(c.isspace() for c in token):
        raise OpsError("the token contains whitespace; pass exactly one token")
    return token


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
