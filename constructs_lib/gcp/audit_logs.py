"""Data-access audit logs and the retention of the project's log bucket (docs/requirements.md#audit-trail: "who accessed what, when")."""

from __future__ import annotations

from typing import Sequence

from constructs_lib.gcp import tf

# The services that hold secrets or data (docs/requirements.md#audit-trail: "evidence access is
# auditable"): Admin Activity logs are always on; reads and writes of data
# are logged only when asked for, here.
AUDITED_SERVICES = (
    "cloudsql.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
)
LOG_TYPES = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")


class AuditLogging(tf.Construct):
    """Data-access audit config for ``services`` and the ``_Default`` log bucket's retention.

    Defaults and why:
    - ``ADMIN_READ``, ``DATA_READ`` and ``DATA_WRITE`` for each service, no
      exempted members (an exemption is a blind spot in "who accessed");
    - ``google_project_iam_audit_config`` is authoritative per service: a
      console change to these three services' audit settings is drift that
      the next apply reverts;
    - the ``_Default`` bucket (where Cloud Run logs and data-access audit
      logs land) keeps ``retention_days`` (config, floor 30). The resource
      adopts the bucket that every project has; it is never deleted.

    Attributes: ``audit_configs`` (service -> resource), ``log_bucket``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, retention_days: int,
                 services: Sequence[str] = AUDITED_SERVICES) -> None:
        super().__init__(scope, id_)
        ac = tf.project_iam_audit_config
        self.audit_configs = {
            service: ac.ProjectIamAuditConfig(
                self, service.split(".")[0].title(), project=project, service=service,
                audit_log_config=[ac.ProjectIamAuditConfigAuditLogConfig(log_type=t) for t in LOG_TYPES],
            )
            for service in services
        }
        self.log_bucket = tf.logging_project_bucket_config.LoggingProjectBucketConfig(
            self, "DefaultBucket", project=project, location="global", bucket_id="_Default",
            retention_days=retention_days,
            description="Application, request and data-access audit logs",
        )
