"""AWS L3 constructs with secure defaults (aws-cdk-lib)."""

from constructs_lib.aws.encrypted_table import EncryptedTable
from constructs_lib.aws.environment_key import EnvironmentKey
from constructs_lib.aws.hardened_bucket import HardenedBucket
from constructs_lib.aws.secure_parameters import SecureParameterAccess
from constructs_lib.aws.table_backup import TableBackup

__all__ = ["EncryptedTable", "EnvironmentKey", "HardenedBucket", "SecureParameterAccess", "TableBackup"]
