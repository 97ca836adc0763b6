"""Google-managed service agents, created or read by the stack before any grant names them.

A CMEK grant to a service agent that does not exist yet fails the apply
("Service account ... does not exist"), and on a fresh project most agents
do not exist until something asks for them. The GA google provider 6.50.0
has no ``google_project_service_identity`` (it is in google-beta only), so:

- Cloud Storage: the provider's ``google_storage_project_service_account``
  data source calls ``projects.serviceAccount.get``, which creates the agent
  when missing and returns it; the grant uses its ``member`` attribute, so
  the grant depends on it through a reference.
- every other product: a ``terraform_data`` resource whose create runs
  ``gcloud beta services identity create --service=<api>`` (the documented
  way to create a service agent; idempotent, it returns the existing agent).
  Its ``output.member`` is the agent's member string (derived from the project
  number, the format each product documents), and grants use that output,
  so Terraform orders every grant after the creation. The apply runs where
  ``gcloud`` (with the beta component) is authenticated as the deploying
  identity: the GitHub workflow's ``google-github-actions/auth`` step, or an
  operator's ``gcloud auth login``.

Attributes: ``storage`` (data source), ``created`` (api -> terraform_data);
:meth:`member` returns the member string to grant to.
"""

from __future__ import annotations

from enum import Enum

from constructs_lib.gcp import tf


class AgentService(Enum):
    """Products whose service agent holds a CMEK grant, with the agent's documented e-mail."""

    # https://cloud.google.com/sql/docs/postgres/configure-cmek#service-account
    CLOUD_SQL = ("sqladmin.googleapis.com", "service-{number}@gcp-sa-cloud-sql.iam.gserviceaccount.com")
    # https://cloud.google.com/memorystore/docs/redis/cmek
    REDIS = ("redis.googleapis.com", "service-{number}@cloud-redis.iam.gserviceaccount.com")
    # https://cloud.google.com/firestore/docs/use-cmek
    FIRESTORE = ("firestore.googleapis.com", "service-{number}@gcp-sa-firestore.iam.gserviceaccount.com")
    # https://cloud.google.com/secret-manager/docs/cmek
    SECRET_MANAGER = ("secretmanager.googleapis.com", "service-{number}@gcp-sa-secretmanager.iam.gserviceaccount.com")
    # https://cloud.google.com/artifact-registry/docs/cmek
    ARTIFACT_REGISTRY = ("artifactregistry.googleapis.com", "service-{number}@gcp-sa-artifactregistry.iam.gserviceaccount.com")

    @property
    def api(self) -> str:
        return self.value[0]

    def email(self, project_number: str) -> str:
        return self.value[1].format(number=project_number)


def identity_create_command(api: str, project: str) -> str:
    """The gcloud command that creates (or returns) the service agent of ``api``."""
    return f"gcloud beta services identity create --service={api} --project={project} --quiet"


class ServiceAgents(tf.Construct):
    """Creates (or reads) every service agent the stack grants a key to."""

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, project_number: str,
                 services: tuple[AgentService, ...] = tuple(AgentService)) -> None:
        super().__init__(scope, id_)
        self.storage = tf.data_google_storage_project_service_account.DataGoogleStorageProjectServiceAccount(
            self, "Storage", project=project
        )
        self.created: dict[AgentService, tf.DataResource] = {}
        for service in services:
            self.created[service] = tf.DataResource(
                self,
                service.name.title().replace("_", ""),
                # The value grants use: known at plan time from the project
                # number, but only readable once the create below has run.
                input={"member": f"serviceAccount:{service.email(project_number)}"},
                triggers_replace={"api": service.api, "project": project},
                provisioners=[tf.LocalExecProvisioner(type="local-exec", command=identity_create_command(service.api, project))],
            )

    def member(self, service: AgentService | None) -> str:
        """``serviceAccount:<agent>`` as a reference (``None`` is Cloud Storage)."""
        if service is None:
            return self.storage.member
        return tf.Token.as_string(tf.Fn.lookup(self.created[service].output, "member"))
