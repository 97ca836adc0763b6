"""Cloud Run v2 services and the migrations job, environment from the contract."""

from __future__ import annotations

from enum import Enum
from typing import Mapping, Sequence

from constructs_lib.gcp import tf
from constructs_lib.gcp.secrets import Secret
from envconfig.contract import ServiceContract

# Terraform creates the service or job with a bootstrap image; releases change
# the image through bin/gcp-rollout (migrations first). Without this, every
# `cdktf deploy` would roll the image back to the bootstrap one, and a
# Terraform-driven image change would start the services before migrations ran.
ROLLOUT_OWNED_FIELDS = ["template[0].containers[0].image", "client", "client_version"]
JOB_ROLLOUT_OWNED_FIELDS = ["template[0].template[0].containers[0].image", "client", "client_version"]


class Ingress(Enum):
    ALL = "INGRESS_TRAFFIC_ALL"
    INTERNAL_ONLY = "INGRESS_TRAFFIC_INTERNAL_ONLY"
    INTERNAL_LOAD_BALANCER = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"


class VpcEgress(Enum):
    PRIVATE_RANGES_ONLY = "PRIVATE_RANGES_ONLY"
    ALL_TRAFFIC = "ALL_TRAFFIC"


def checked_environment(*, contract: ServiceContract, plain: Mapping[str, str], secrets: Mapping[str, Secret],
                        source: str) -> tuple[list[tuple[str, str]], list[tuple[str, Secret]]]:
    """Check an environment against the contract; return it sorted for a stable diff."""
    contract.check(plain=plain, secrets=secrets, source=source)
    return sorted(plain.items()), sorted(secrets.items())


class _RuntimeIdentity(tf.Construct):
    """A dedicated service account, accessor bindings on exactly its secrets, and its project roles.

    Every secret it reads must already have a Terraform-managed version: a
    revision whose ``latest`` version does not exist fails to start, and the
    provider then drops the half-created service from state (the next apply
    answers 409). ``prerequisites`` is what the workload must wait for: the
    accessor bindings, the secret versions and the project roles.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, account_id: str, display_name: str,
                 accessor_id: str, secrets: list[tuple[str, Secret]], project_roles: Sequence[str] = ()) -> None:
        super().__init__(scope, id_)
        missing = [name for name, secret in secrets if secret.version is None]
        if missing:
            raise ValueError(f"{self.node.path}: secrets {missing} have no Terraform-managed version; "
                             "a first revision reading them would fail (use generate_value or set_value_from)")
        self.service_account = tf.service_account.ServiceAccount(
            self, "ServiceAccount", project=project, account_id=account_id, display_name=display_name
        )
        self.member = f"serviceAccount:{self.service_account.email}"
        self.secret_bindings = [
            secret.grant_access(accessor_id, self.member)
            for _, secret in secrets
        ]
        self.secret_versions = [secret.version for _, secret in secrets]
        self.project_roles = [
            tf.project_iam_member.ProjectIamMember(
                self, role.split("/")[-1].replace(".", " ").title().replace(" ", ""), project=project, role=role,
                member=self.member,
            )
            for role in project_roles
        ]
        self.prerequisites = [*self.secret_bindings, *self.secret_versions, *self.project_roles]


class CloudRunService(tf.Construct):
    """A Cloud Run v2 service with its own identity and a contract-checked environment.

    Defaults and why:
    - a dedicated service account (never the default compute account, which
      holds Editor) that can read only the secrets this service is given;
    - environment checked against ``config/env_contract.yaml`` here, so no
      caller can skip it; secrets are ``secret_key_ref`` references to the
      ``latest`` version, resolved by Cloud Run at instance start;
    - ``public`` services get an ``allUsers`` invoker (they are the public
      API; authentication is the application's); others get no invoker.
      Ingress: ``behind_load_balancer`` public services accept only the load
      balancer and internal traffic (``INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER``):
      with ALL, the ``*.run.app`` URL bypasses the edge's TLS policy and
      request logs (Cloud Run docs, "Restrict network ingress":
      https://cloud.google.com/run/docs/securing/ingress; google provider 6.50
      google_cloud_run_v2_service ``ingress``). A public service without an
      edge keeps ALL; a private one is internal-only;
    - ``concurrency``: requests per instance (``max_instance_request_concurrency``,
      Cloud Run's default 80); for the WebSocket service each open socket
      is one request, so capacity is concurrency x max instances;
    - Direct VPC egress into our subnet for private ranges only (Cloud SQL and
      Memorystore private IPs); the internet is still reached directly;
    - min/max instances from configuration; CPU allocated only while serving
      (``cpu_idle``) unless ``cpu_always_allocated`` (a service that works
      outside requests, like the agent, would be throttled to nearly nothing
      between them); startup CPU boost, a TCP startup probe and an HTTP
      liveness probe on ``health_path``;
    - request timeout ``timeout_seconds`` (Cloud Run's default is 300 s; a
      WebSocket is one request, so the WebSocket service needs 3600) and
      ``session_affinity`` (reconnects land on the same instance);
    - ``project_roles`` for the service account (telemetry writers for OTLP);
      the service waits for them, for its secret bindings and for a version
      of every secret it reads (see ``_RuntimeIdentity``);
    - deletion protection from configuration; the image is owned by the
      rollout command (see ``ROLLOUT_OWNED_FIELDS``).

    Attributes: ``service``, ``service_account``, ``secret_bindings``,
    ``public_invoker`` (or None), ``env`` (name -> plain value or secret id).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, region: str, name: str, account_id: str,
                 image: str, port: int, cpu: str, memory: str, min_instances: int, max_instances: int,
                 public: bool, contract: ServiceContract, plain_env: Mapping[str, str],
                 secret_env: Mapping[str, Secret], network_id: str, subnet_id: str,
                 deletion_protection: bool = True, health_path: str = "/health",
                 egress: VpcEgress = VpcEgress.PRIVATE_RANGES_ONLY, timeout_seconds: int = 300,
                 session_affinity: bool = False, cpu_always_allocated: bool = False,
                 project_roles: Sequence[str] = (), concurrency: int = 80,
                 behind_load_balancer: bool = False) -> None:
        super().__init__(scope, id_)
        plain, secrets = checked_environment(contract=contract, plain=plain_env, secrets=secret_env, source=self.node.path)
        run = tf.cloud_run_v2_service
        identity = _RuntimeIdentity(self, "Identity", project=project, account_id=account_id,
                                    display_name=f"Cloud Run service {name}", accessor_id=id_, secrets=secrets,
                                    project_roles=project_roles)
        self.identity = identity
        self.service_account = identity.service_account
        self.secret_bindings = identity.secret_bindings
        self.env = {**dict(plain), **{k: s.secret.secret_id for k, s in secrets}}
        env = [run.CloudRunV2ServiceTemplateContainersEnv(name=k, value=v) for k, v in plain]
        env += [
            run.CloudRunV2ServiceTemplateContainersEnv(
                name=k,
                value_source=run.CloudRunV2ServiceTemplateContainersEnvValueSource(
                    secret_key_ref=run.CloudRunV2ServiceTemplateContainersEnvValueSourceSecretKeyRef(
                        secret=s.secret.secret_id, version="latest"
                    )
                ),
            )
            for k, s in secrets
        ]
        if not public:
            self.ingress = Ingress.INTERNAL_ONLY
        else:
            self.ingress = Ingress.INTERNAL_LOAD_BALANCER if behind_load_balancer else Ingress.ALL
        self.service = run.CloudRunV2Service(
            self,
            "Service",
            project=project,
            location=region,
            name=name,
            ingress=self.ingress.value,
            deletion_protection=deletion_protection,
            launch_stage="GA",
            template=run.CloudRunV2ServiceTemplate(
                service_account=self.service_account.email,
                timeout=f"{timeout_seconds}s",
                session_affinity=session_affinity,
                max_instance_request_concurrency=concurrency,
                scaling=run.CloudRunV2ServiceTemplateScaling(min_instance_count=min_instances, max_instance_count=max_instances),
                vpc_access=run.CloudRunV2ServiceTemplateVpcAccess(
                    egress=egress.value,
                    network_interfaces=[run.CloudRunV2ServiceTemplateVpcAccessNetworkInterfaces(network=network_id, subnetwork=subnet_id)],
                ),
                containers=[
                    run.CloudRunV2ServiceTemplateContainers(
                        image=image,
                        ports=run.CloudRunV2ServiceTemplateContainersPorts(container_port=port),
                        env=env,
                        resources=run.CloudRunV2ServiceTemplateContainersResources(
                            limits={"cpu": cpu, "memory": memory}, cpu_idle=not cpu_always_allocated,
                            startup_cpu_boost=True
                        ),
                        startup_probe=run.CloudRunV2ServiceTemplateContainersStartupProbe(
                            tcp_socket=run.CloudRunV2ServiceTemplateContainersStartupProbeTcpSocket(port=port),
                            period_seconds=5,
                            failure_threshold=12,
                        ),
                        liveness_probe=run.CloudRunV2ServiceTemplateContainersLivenessProbe(
                            http_get=run.CloudRunV2ServiceTemplateContainersLivenessProbeHttpGet(path=health_path, port=port),
                            period_seconds=30,
                        ),
                    )
                ],
            ),
            depends_on=list(identity.prerequisites),
            lifecycle=tf.TerraformResourceLifecycle(ignore_changes=ROLLOUT_OWNED_FIELDS),
        )
        self.public_invoker = None
        if public:
            # The public API and WebSocket endpoints are called by browsers;
            # authentication is the application's (Better Auth), not IAM's.
            self.public_invoker = tf.cloud_run_v2_service_iam_member.CloudRunV2ServiceIamMember(
                self, "PublicInvoker", project=project, location=region, name=self.service.name,
                role="roles/run.invoker", member="allUsers",
            )


class MigrationsJob(tf.Construct):
    """The Cloud Run v2 job that applies database migrations before a rollout.

    Defaults and why (docs/requirements.md#gcp-release: "migrations run as a job (pre-deploy), not at
    app startup"; "executed pre-deploy (serialized)"):
    - one task, parallelism 1: migrations never run concurrently;
    - ``max_retries = 0``: a half-applied migration is not blindly re-run;
      the failure stops the rollout and pages (alert policy in monitoring);
    - its own service account and contract-checked environment (service
      ``migrations``), Direct VPC egress to reach Cloud SQL's private IP;
    - the image is owned by the rollout command, like the services'.

    Attributes: ``job``, ``service_account``, ``secret_bindings``, ``env``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, region: str, name: str, account_id: str,
                 image: str, cpu: str, memory: str, timeout_seconds: int, contract: ServiceContract,
                 plain_env: Mapping[str, str], secret_env: Mapping[str, Secret], network_id: str, subnet_id: str,
                 deletion_protection: bool = True) -> None:
        super().__init__(scope, id_)
        plain, secrets = checked_environment(contract=contract, plain=plain_env, secrets=secret_env, source=self.node.path)
        job = tf.cloud_run_v2_job
        identity = _RuntimeIdentity(self, "Identity", project=project, account_id=account_id,
                                    display_name=f"Cloud Run job {name}", accessor_id=id_, secrets=secrets)
        self.identity = identity
        self.service_account = identity.service_account
        self.secret_bindings = identity.secret_bindings
        self.env = {**dict(plain), **{k: s.secret.secret_id for k, s in secrets}}
        env = [job.CloudRunV2JobTemplateTemplateContainersEnv(name=k, value=v) for k, v in plain]
        env += [
            job.CloudRunV2JobTemplateTemplateContainersEnv(
                name=k,
                value_source=job.CloudRunV2JobTemplateTemplateContainersEnvValueSource(
                    secret_key_ref=job.CloudRunV2JobTemplateTemplateContainersEnvValueSourceSecretKeyRef(
                        secret=s.secret.secret_id, version="latest"
                    )
                ),
            )
            for k, s in secrets
        ]
        self.job = job.CloudRunV2Job(
            self,
            "Job",
            project=project,
            location=region,
            name=name,
            deletion_protection=deletion_protection,
            launch_stage="GA",
            template=job.CloudRunV2JobTemplate(
                task_count=1,
                parallelism=1,
                template=job.CloudRunV2JobTemplateTemplate(
                    service_account=self.service_account.email,
                    max_retries=0,
                    timeout=f"{timeout_seconds}s",
                    vpc_access=job.CloudRunV2JobTemplateTemplateVpcAccess(
                        egress=VpcEgress.PRIVATE_RANGES_ONLY.value,
                        network_interfaces=[job.CloudRunV2JobTemplateTemplateVpcAccessNetworkInterfaces(network=network_id, subnetwork=subnet_id)],
                    ),
                    containers=[
                        job.CloudRunV2JobTemplateTemplateContainers(
                            image=image,
                            env=env,
                            resources=job.CloudRunV2JobTemplateTemplateContainersResources(limits={"cpu": cpu, "memory": memory}),
                        )
                    ],
                ),
            ),
            depends_on=list(identity.prerequisites),
            lifecycle=tf.TerraformResourceLifecycle(ignore_changes=JOB_ROLLOUT_OWNED_FIELDS),
        )
