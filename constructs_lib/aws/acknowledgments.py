"""cdk-nag acknowledgments shared by several constructs, each with its reason.

Only findings that recur for the same documented cause live here; one-off
acknowledgments stay next to the resource they concern.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge_cmk_table_grant(scope: IConstruct) -> None:
    """CDK's ``grant_*_data`` on a CMK-encrypted table adds ``kms:GenerateDataKey*`` and
    ``kms:ReEncrypt*`` on that one key: writing items needs a data key, and the
    action wildcards only cover variants of those two operations."""
    Validations.of(scope).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            reason="CDK's table grant: GenerateDataKey* on the data key only, needed to write items to CMK-encrypted tables.",
        ),
        Acknowledgment(
            id="AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            reason="CDK's table grant: ReEncrypt* on the data key only, needed to write items to CMK-encrypted tables.",
        ),
    )
