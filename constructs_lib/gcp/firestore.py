"""Firestore in native mode."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.kms import grant_encrypt_decrypt


class FirestoreNative(tf.Construct):
    """A named Firestore native-mode database.

    Defaults and why: ``FIRESTORE_NATIVE``; point-in-time recovery on (7 days
    of versions); delete protection in the API and ``ABANDON`` on destroy,
    so neither Terraform nor a console click drops the data; CMEK with
    ``kms_key`` in the database's region; pessimistic concurrency (the
    default for native mode, stated so a reviewer sees it).

    Backups besides point-in-time recovery (docs/requirements.md#gcp-restore):
    a daily schedule kept ``backup_days`` days (the API keeps a daily backup
    at most 7 days) and a weekly one (Sunday) kept 14 weeks, the longest the
    API allows. PITR covers "a bad write a minute ago" for 7 days; the
    weekly backups cover what is noticed later. A restore always goes into a
    new database (docs/runbooks/gcp.md, "Restore: Firestore").

    Attributes: ``database``, ``key_grant``, ``daily_backups``, ``weekly_backups``.
    """

    WEEKLY_RETENTION_SECONDS = 14 * 7 * 86400

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, location: str, name: str,
                 kms_key: tf.kms_crypto_key.KmsCryptoKey, service_agent: str, backup_days: int = 7) -> None:
        if not 1 <= backup_days <= 7:
            raise ValueError(f"{id_}: a daily Firestore backup is kept 1-7 days, got {backup_days}")
        super().__init__(scope, id_)
        self.key_grant = grant_encrypt_decrypt(self, "KeyGrant", key=kms_key, member=service_agent)
        self.database = tf.firestore_database.FirestoreDatabase(
            self,
            "Database",
            project=project,
            name=name,
            location_id=location,
            type="FIRESTORE_NATIVE",
            concurrency_mode="PESSIMISTIC",
            point_in_time_recovery_enablement="POINT_IN_TIME_RECOVERY_ENABLED",
            delete_protection_state="DELETE_PROTECTION_ENABLED",
            deletion_policy="ABANDON",
            cmek_config=tf.firestore_database.FirestoreDatabaseCmekConfig(kms_key_name=kms_key.id),
            depends_on=[self.key_grant],
        )
        schedule = tf.firestore_backup_schedule
        self.daily_backups = schedule.FirestoreBackupSchedule(
            self, "DailyBackups", project=project, database=self.database.name,
            retention=f"{backup_days * 86400}s", daily_recurrence=schedule.FirestoreBackupScheduleDailyRecurrence(),
        )
        self.weekly_backups = schedule.FirestoreBackupSchedule(
            self, "WeeklyBackups", project=project, database=self.database.name,
            retention=f"{self.WEEKLY_RETENTION_SECONDS}s",
            weekly_recurrence=schedule.FirestoreBackupScheduleWeeklyRecurrence(day="SUNDAY"),
        )
