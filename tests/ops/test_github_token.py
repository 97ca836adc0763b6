"""set-github-token: stdin only, stored encrypted, never in any output."""
from __future__ import annotations

import io
import logging

from opscli import aws_ops

TOKEN = "ghp_NeverShowThis0123456789abcdefABCDEF"


def test_token_is_stored_encrypted_and_never_printed(aws, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    assert aws_ops.main(["set-github-token", "--env", "staging"], stdin=io.StringIO(TOKEN + "\n")) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "stored /mirror-dissonance/staging/github-token (version 1, SecureString)"
    assert TOKEN not in out.out + out.err + caplog.text
    ssm = aws.client("ssm")
    meta = ssm.describe_parameters()["Parameters"][0]
    assert (meta["Type"], meta["KeyId"]) == ("SecureString", "alias/mirror-dissonance-staging-secrets")
    stored = ssm.get_parameter(Name=meta["Name"], WithDecryption=True)["Parameter"]["Value"]
    assert stored == TOKEN


def test_empty_stdin_is_refused(aws, capsys):
    assert aws_ops.main(["set-github-token", "--env", "staging"], stdin=io.StringIO("\n")) == 2
    assert capsys.readouterr().err.strip() == (
        "ops set-github-token: no token on stdin (pipe it in: bin/ops set-github-token --env staging < token-file)")


def test_two_tokens_are_refused_without_echoing_them(aws, capsys):
    assert aws_ops.main(["set-github-token", "--env", "staging"], stdin=io.StringIO("abc def")) == 2
    err = capsys.readouterr().err
    assert err.strip() == "ops set-github-token: the token contains whitespace; pass exactly one token"


def test_a_byte_order_mark_is_not_stored(aws, capsys):
    """Defect: a token file saved with a UTF-8 BOM was stored with it (and never matched)."""
    assert aws_ops.main(["set-github-token", "--env", "staging"], stdin=io.StringIO("\ufeff" + TOKEN + "\r\n")) == 0
    ssm = aws.client("ssm")
    name = ssm.describe_parameters()["Parameters"][0]["Name"]
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == TOKEN


def test_stdin_beyond_4096_characters_is_refused_before_any_cloud_call(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9")
    big = io.StringIO("g" * 10_000_000)
    assert aws_ops.main(["set-github-token", "--env", "staging"], stdin=big) == 2
    assert capsys.readouterr().err.strip() == (
        "ops set-github-token: more than 4096 characters on stdin: not one token; pass exactly one token")
    assert big.tell() == 4097  # read no further than needed to know
