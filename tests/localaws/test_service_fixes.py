"""Policy-condition evaluation used for S3 bucket policies in the emulator."""
from __future__ import annotations

import json

from localaws.service_fixes import condition_holds
from localaws_kit import client

TLS_ONLY = [
    {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": ["arn:aws:s3:::tls-bucket", "arn:aws:s3:::tls-bucket/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": ["arn:aws:s3:::tls-bucket", "arn:aws:s3:::tls-bucket/*"],
     "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}},
]


def test_tls_only_policy_lets_requests_through():
    s3 = client("s3")
    s3.create_bucket(Bucket="tls-bucket")
    s3.put_bucket_policy(Bucket="tls-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": TLS_ONLY}))
    s3.put_object(Bucket="tls-bucket", Key="k", Body=b"x")
    assert s3.get_object(Bucket="tls-bucket", Key="k")["Body"].read() == b"x"


def test_an_unconditional_deny_still_denies():
    s3 = client("s3")
    s3.create_bucket(Bucket="deny-bucket")
    s3.put_bucket_policy(Bucket="deny-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::deny-bucket/*"}]}))
    try:
        s3.put_object(Bucket="deny-bucket", Key="k", Body=b"x")
    except Exception as exc:  # noqa: BLE001
        assert "403" in str(exc) or "Forbidden" in str(exc) or "AccessDenied" in str(exc)
    else:
        raise AssertionError("an unconditional Deny must deny")


def test_condition_operators():
    ctx = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3", "aws:SourceAccount": "123456789012"}
    assert condition_holds({"Bool": {"aws:SecureTransport": "true"}}, ctx)
    assert not condition_holds({"Bool": {"aws:SecureTransport": "false"}}, ctx)
    assert not condition_holds({"NumericLessThan": {"s3:TlsVersion": 1.2}}, ctx)
    assert condition_holds({"NumericGreaterThanEquals": {"s3:TlsVersion": "1.2"}}, ctx)
    assert condition_holds({"StringEquals": {"aws:SourceAccount": ["1", "123456789012"]}}, ctx)
    assert not condition_holds({"StringNotEquals": {"aws:SourceAccount": "123456789012"}}, ctx)
    assert condition_holds({"StringLike": {"aws:SourceAccount": "1234*"}}, ctx)
    assert not condition_holds({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, ctx)  # missing key: false
    assert condition_holds({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, ctx)
    assert condition_holds({"Null": {"aws:PrincipalOrgID": "true"}}, ctx)
    assert not condition_holds({"SomeFutureOperator": {"aws:SecureTransport": "true"}}, ctx)
