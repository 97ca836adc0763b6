"""Firestore: point-in-time recovery plus scheduled daily and weekly backups (docs/requirements.md#gcp-restore)."""
from __future__ import annotations

import pytest

from envconfig.gcp import Environment


@pytest.mark.parametrize("env", list(Environment))
def test_pitr_and_daily_and_weekly_backups(gcp_synth, env):
    synth = gcp_synth[env]
    database = synth.one("google_firestore_database", "Firestore")
    assert database["point_in_time_recovery_enablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    schedules = list(synth.resources("google_firestore_backup_schedule").values())
    assert len(schedules) == 2
    ref = synth.ref("google_firestore_database", "Firestore", "name")
    assert all(s["database"] == ref and s["project"] == synth.config.project_id for s in schedules)
    daily = next(s for s in schedules if "daily_recurrence" in s)
    weekly = next(s for s in schedules if "weekly_recurrence" in s)
    # Both environments keep daily backups 7 days (config/gcp/*.yaml recovery.firestore_backup_days)
    # and weekly ones 14 weeks, the longest the API allows.
    assert daily["retention"] == "604800s"  # 7 x 86400
    assert weekly["retention"] == "8467200s" and weekly["weekly_recurrence"]["day"] == "SUNDAY"


def test_a_daily_retention_beyond_seven_days_is_refused():
    from constructs_lib.gcp import tf
    from constructs_lib.gcp.firestore import FirestoreNative

    stack = tf.TerraformStack(tf.Testing.app(), "bare")
    with pytest.raises(ValueError, match="kept 1-7 days, got 8"):
        FirestoreNative(stack, "F", project="p", location="us-central1", name="n", kms_key=None, service_agent="x",
                        backup_days=8)
