"""The Google APIs a stack needs, enabled by the stack itself."""

from __future__ import annotations

from typing import Sequence

from constructs_lib.gcp import tf

PLATFORM_APIS = (
    "artifactregistry.googleapis.com",
    "billingbudgets.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudtrace.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "redis.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
    "telemetry.googleapis.com",
)


class ProjectApis(tf.Construct):
    """``google_project_service`` per API, never disabled on destroy.

    Disabling an API on destroy would break everything else in the project
    that uses it (and other stacks); enabling is idempotent.

    Attributes: ``services`` (api -> ProjectService).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, apis: Sequence[str] = PLATFORM_APIS) -> None:
        super().__init__(scope, id_)
        self.services = {
            api: tf.project_service.ProjectService(
                self, api.split(".")[0].title(), project=project, service=api, disable_on_destroy=False,
                disable_dependent_services=False,
            )
            for api in apis
        }
