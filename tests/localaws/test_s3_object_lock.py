"""The S3 handler's Object Lock: deploy through CloudFormation, read back and
exercise through moto's S3 API (retention on new objects, deletes refused)."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localaws_kit import Stack, client  # noqa: F401  (Stack: the fixture's type)


def _locked_bucket(name, mode="GOVERNANCE", days=30):
    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {
        "BucketName": name, "VersioningConfiguration": {"Status": "Enabled"}, "ObjectLockEnabled": True,
        "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}}}}}


def test_bucket_object_lock_default_retention_applies_to_new_objects(stack):
    stack.deploy({"Bucket": _locked_bucket("locked-bucket", "COMPLIANCE", 365)})
    assert stack.describe()["StackStatus"] == "CREATE_COMPLETE"
    s3 = client("s3")
    config = s3.get_object_lock_configuration(Bucket="locked-bucket")["ObjectLockConfiguration"]
    retention = config["Rule"]["DefaultRetention"]  # moto also answers "Years": 0
    assert (config["ObjectLockEnabled"], retention["Mode"], retention["Days"]) == ("Enabled", "COMPLIANCE", 365)
    version = s3.put_object(Bucket="locked-bucket", Key="log.json.gz", Body=b"x", ChecksumAlgorithm="SHA256")["VersionId"]
    head = s3.head_object(Bucket="locked-bucket", Key="log.json.gz", VersionId=version)  # moto's GetObjectRetention answers 500
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"].year >= head["LastModified"].year
    # Compliance mode: the version cannot be deleted, bypass header or not.
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket="locked-bucket", Key="log.json.gz", VersionId=version, BypassGovernanceRetention=True)


def test_bucket_object_lock_enabled_in_place_on_a_bucket_with_objects(stack):
    """S3 (since 2023) and CloudFormation enable Object Lock on an existing versioned
    bucket without replacing it; objects already stored are not locked."""
    plain = _locked_bucket("trail-like-bucket")
    for key_ in ("ObjectLockEnabled", "ObjectLockConfiguration"):
        del plain["Properties"][key_]
    stack.deploy({"Bucket": plain})
    s3 = client("s3")
    old = s3.put_object(Bucket="trail-like-bucket", Key="before.json.gz", Body=b"x")["VersionId"]
    stack.deploy({"Bucket": _locked_bucket("trail-like-bucket")})
    assert stack.describe()["StackStatus"] == "UPDATE_COMPLETE"
    retention = s3.get_object_lock_configuration(Bucket="trail-like-bucket")["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 30)
    new = s3.put_object(Bucket="trail-like-bucket", Key="after.json.gz", Body=b"y", ChecksumAlgorithm="SHA256")["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket="trail-like-bucket", Key="after.json.gz", VersionId=new)
    # Governance mode: whoever may bypass it still can (staging's choice).
    s3.delete_object(Bucket="trail-like-bucket", Key="after.json.gz", VersionId=new, BypassGovernanceRetention=True)
    s3.delete_object(Bucket="trail-like-bucket", Key="before.json.gz", VersionId=old)


def test_bucket_object_lock_cannot_be_disabled_or_lose_versioning(stack):
    stack.deploy({"Bucket": _locked_bucket("kept-locked")})
    plain = _locked_bucket("kept-locked")
    del plain["Properties"]["ObjectLockEnabled"], plain["Properties"]["ObjectLockConfiguration"]
    stack.deploy({"Bucket": plain})
    assert stack.describe()["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert any("Object Lock cannot be disabled" in (e.get("ResourceStatusReason") or "") for e in stack.events())


def test_bucket_object_lock_needs_versioning(stack):
    unversioned = _locked_bucket("unversioned-locked")
    del unversioned["Properties"]["VersioningConfiguration"]
    stack.deploy({"Bucket": unversioned})
    assert stack.describe()["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any("Versioning must be 'Enabled'" in (e.get("ResourceStatusReason") or "") for e in stack.events())
