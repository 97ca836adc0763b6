"""The ``gcp-<env>`` stack: provider, backend, APIs and the five concerns."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.apis import ProjectApis
from constructs_lib.gcp.artifact_registry import ImageRepository
from constructs_lib.gcp.edge import HttpsEdge
from constructs_lib.gcp.frontend import StaticSite
from constructs_lib.gcp.service_agents import AgentService, ServiceAgents
from envconfig.contract import EnvContract
from envconfig.gcp import GcpConfig, Service
from stacks.gcp.data import Data
from stacks.gcp.media import Media
from stacks.gcp.observability import Observability
from stacks.gcp.oidc import Oidc
from stacks.gcp.runtime import Runtime
from stacks.gcp.secrets import Secrets


# Principals that make a bucket public (Cloud Storage docs, "Making data public").
PUBLIC_PRINCIPALS = ("allUsers", "allAuthenticatedUsers")
FRONTEND_PUBLIC_ROLE = "roles/storage.objectViewer"


def refuse_public_buckets(stack: tf.TerraformStack) -> None:
    """The one kind of public bucket (docs/requirements.md#gcp-frontends): a
    frontend bucket that a CDN backend bucket serves (a :class:`StaticSite`),
    readable object by object by ``allUsers`` with ``roles/storage.objectViewer``
    only: never list, never write, never ``allAuthenticatedUsers``, and no
    other bucket. Any other grant to a public principal stops synth here."""
    allowed = {site.public_read.node.path for site in getattr(stack, "frontends", {}).values()
               if isinstance(site, StaticSite) and site.backend is not None}
    for construct in stack.node.find_all():
        kind = getattr(construct, "terraform_resource_type", "")
        if not kind.startswith("google_storage_bucket_iam") and not kind.startswith("google_storage_default_object_acl") \
                and kind not in ("google_storage_bucket_acl", "google_storage_object_acl"):
            continue
        # The *_input properties are what was set (the plain ones are Terraform references).
        members = []
        for attribute in ("member_input", "members_input", "role_entity_input", "policy_data_input"):
            value = getattr(construct, attribute, None) if attribute in dir(construct) else None
            if isinstance(value, str):
                members.append(value)
            elif isinstance(value, (list, tuple)):
                members.extend(str(v) for v in value)
        public = [m for m in members if any(p in m for p in PUBLIC_PRINCIPALS)]
        if not public:
            continue
        role = getattr(construct, "role_input", None) if "role_input" in dir(construct) else None
        if construct.node.path in allowed and role == FRONTEND_PUBLIC_ROLE and public == ["allUsers"]:
            continue
        raise ValueError(f"{construct.node.path}: {kind} grants {role or 'access'} to {public}: only a CDN-served frontend "
                         f"bucket (StaticSite) may be public, and only {FRONTEND_PUBLIC_ROLE} to allUsers "
                         "(docs/requirements.md#gcp-frontends)")


class GcpPlatformStack(tf.TerraformStack):
    """One environment of the GCP side.

    State lives in the GCS bucket/prefix from configuration. ``local_backend``
    (``GCP_TF_BACKEND=local`` in gcp_app.py) switches to a local state file
    for offline synth and experiments; never for a shared environment.

    Attributes: ``config``, ``provider``, ``backend``, ``project``, ``apis``,
    ``agents``, ``secrets``, ``images``, ``data``, ``media`` (None without
    LiveKit), ``runtime``, ``frontends`` (app -> StaticSite), ``edge`` (None
    without custom domains or frontends), ``oidc``,
    ``observability``.
    """

    def __init__(self, scope: tf.Construct, *, config: GcpConfig, local_backend: bool = False,
                 contract: EnvContract | None = None) -> None:
        super().__init__(scope, config.stack_name)
        self.config = config
        self.provider = tf.provider.GoogleProvider(
            self,
            "Google",
            project=config.project_id,
            region=config.region.value,
            # Billing budgets and a few other APIs bill the quota to the
            # caller's project; make it ours, not the credentials' home project.
            # Every request then carries X-Goog-User-Project, which needs
            # serviceusage.services.use on this project for whoever runs
            # Terraform: the plan identity too (opscli/gcp_bootstrap.py,
            # PLAN_QUOTA_ROLE; google provider 6.50, "user_project_override").
            user_project_override=True,
            billing_project=config.project_id,
            default_labels={"system": "mirror-dissonance", "environment": config.environment.value, "managed-by": "cdktf"},
        )
        if local_backend:
            self.backend = tf.LocalBackend(self, path=f"terraform.{config.stack_name}.tfstate")
        else:
            self.backend = tf.GcsBackend(self, bucket=config.backend.bucket, prefix=config.backend.prefix)
        self.project = tf.data_google_project.DataGoogleProject(self, "Project", project_id=config.project_id)
        number = self.project.number
        self.apis = ProjectApis(self, "Apis", project=config.project_id)
        # Every resource created from here on depends on the enabled APIs, so a
        # first apply on a fresh project does not race the API enablement
        # (written as each resource is created: one jsii call, not a pass over the tree).
        tf.depend_from_here_on(self, self.apis.services.values())
        # Before any key grant names them (a grant to a missing agent fails the apply).
        self.agents = ServiceAgents(self, "ServiceAgents", project=config.project_id, project_number=number)
        # A data source is read at plan time unless it depends on something; on a
        # fresh project the Storage API must be enabled before the agent is read.
        storage_api = self.apis.services["storage.googleapis.com"]
        self.agents.storage.depends_on = [f"{storage_api.terraform_resource_type}.{storage_api.friendly_unique_id}"]

        self.secrets = Secrets(self, "Secrets", config=config, agents=self.agents)
        self.images = ImageRepository(
            self, "Images", project=config.project_id, location=config.region.value,
            repository_id=config.artifact_registry.repository, kms_key=self.secrets.key_ring.key("artifacts"),
            service_agent=self.agents.member(AgentService.ARTIFACT_REGISTRY),
            keep_recent=config.artifact_registry.keep_recent_versions,
            untagged_days=config.artifact_registry.untagged_retention_days,
            tagged_days=config.artifact_registry.tagged_retention_days,
        )
        self.data = Data(self, "Data", config=config, agents=self.agents, keys=self.secrets.key_ring,
                         secrets=self.secrets.secrets)
        self.media = Media(self, "Media", config=config, data=self.data, secrets=self.secrets.secrets) if config.livekit else None
        self.runtime = Runtime(self, "Runtime", config=config, data=self.data, secrets=self.secrets.secrets,
                               contract=contract, livekit_url=self.media.livekit.url if self.media else None)
        # References to the services' names: each NEG is created after its service.
        routes = {host: (svc.value, self.runtime.services[svc].service.name) for svc, host in
                  ((Service.API, config.domains.api), (Service.WEBSOCKET, config.domains.websocket)) if host}
        assets = self.data.bucket
        self.frontends = {
            fe.name: StaticSite(
                self, f"Frontend{fe.name.title().replace('-', '')}", project=config.project_id,
                location=config.region.value.upper(), name=f"{config.project_id}-{fe.name}-web",
                kms_key=self.secrets.key_ring.key("storage"), key_grant=assets.key_grant,
                log_bucket=assets.access_log_bucket.name,
            )
            for fe in config.frontends
        }
        static_hosts = {fe.domain: self.frontends[fe.name].backend.id for fe in config.frontends if fe.path is None}
        path_routes: dict[str, dict[str, str]] = {}
        for fe in config.frontends:
            if fe.path is not None:
                path_routes.setdefault(fe.domain, {})[fe.path] = self.frontends[fe.name].backend.id
        if self.media:
            # wss:// signalling through the edge's managed certificate and TLS policy.
            static_hosts[self.media.livekit.domain] = self.media.livekit.signal_backend.id
        self.edge = HttpsEdge(self, "Edge", project=config.project_id, region=config.region.value,
                              name=config.name_prefix, routes=routes,
                              static_hosts=static_hosts,
                              log_sample_rate=config.logging.load_balancer_log_sample_rate,
                              path_routes=path_routes) if routes or static_hosts or path_routes else None
        refuse_public_buckets(self)
        if self.media:
            self.media.livekit.add_turn_tls(ssl_policy=self.edge.ssl_policy.id)
        self.oidc = Oidc(self, "Oidc", config=config, runtime=self.runtime)
        self.observability = Observability(self, "Observability", config=config, runtime=self.runtime,
                                           project_number=number)
        if self.media:
            self.media.livekit.add_down_alert(self.observability.monitoring)
        self._outputs()

    def _outputs(self) -> None:
        """What the deploy workflow and the rollout command read back."""
        for service, svc in self.runtime.services.items():
            tf.TerraformOutput(self, f"{service.value.title()}Url", value=svc.service.uri)
        tf.TerraformOutput(self, "MigrationsJob", value=self.runtime.migrations.job.name)
        tf.TerraformOutput(self, "WorkloadIdentityProvider", value=self.oidc.github.provider.name)
        tf.TerraformOutput(self, "DeployServiceAccount", value=self.oidc.github.service_account.email)
        if self.edge:
            # The operator points the custom domains' DNS A records here.
            tf.TerraformOutput(self, "EdgeAddress", value=self.edge.address.address)
        if self.media:
            # livekit.turn_domain's DNS A record (TURN/TLS has its own address on 443).
            tf.TerraformOutput(self, "LivekitTurnAddress", value=self.media.livekit.turn_address.address)
