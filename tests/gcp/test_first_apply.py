"""First apply on an empty project: the Terraform dependency graph orders what each resource needs.

docs/requirements.md#gcp-state. Terraform creates
resources in parallel unless an edge (``depends_on`` or a reference) orders
them; a Cloud Run revision that starts before a version of its secret
exists fails, and a CMEK grant to a service agent nobody created fails. The
graph is built from the synthesized ``cdk.tf.json`` (what Terraform reads),
not from the Python objects.
"""

from __future__ import annotations

import json
import re

import pytest

from envconfig.gcp import Service

REF = re.compile(r"(?<![A-Za-z0-9_.])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_]+)")
SECRET_REF = re.compile(r"^\$\{google_secret_manager_secret\.([A-Za-z0-9_]+)\.secret_id\}$")
SA_REF = re.compile(r"\$\{google_service_account\.([A-Za-z0-9_]+)\.(?:email|member)\}")


class Graph:
    """Addresses and their direct edges (depends_on plus references), as Terraform sees them."""

    def __init__(self, doc: dict) -> None:
        self.bodies: dict[str, dict] = {}
        for kind, prefix in (("resource", ""), ("data", "data.")):
            for type_, items in doc.get(kind, {}).items():
                for name, body in items.items():
                    self.bodies[f"{prefix}{type_}.{name}"] = body
        self.edges: dict[str, set[str]] = {}
        for address, body in self.bodies.items():
            content = {k: v for k, v in body.items() if k != "//"}
            found = set(body.get("depends_on", []))
            found |= {m for m in REF.findall(json.dumps(content)) if m in self.bodies}
            self.edges[address] = found - {address}

    def reachable(self, address: str) -> set[str]:
        seen: set[str] = set()
        todo = [address]
        while todo:
            for nxt in self.edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def of_type(self, type_: str) -> dict[str, dict]:
        return {a: b for a, b in self.bodies.items() if a.startswith(f"{type_}.")}


@pytest.fixture
def graph(synth) -> Graph:
    return Graph(synth.doc)


def _workloads(graph: Graph) -> dict[str, tuple[dict, str]]:
    """Cloud Run services and jobs -> (container, service account address)."""
    result = {}
    for address, body in graph.of_type("google_cloud_run_v2_service").items():
        template = body["template"]
        result[address] = (template["containers"][0], template["service_account"])
    for address, body in graph.of_type("google_cloud_run_v2_job").items():
        template = body["template"]["template"]
        result[address] = (template["containers"][0], template["service_account"])
    return result


def _secrets_read(container: dict) -> list[str]:
    refs = [e["value_source"]["secret_key_ref"]["secret"] for e in container.get("env", []) if "value_source" in e]
    names = []
    for ref in refs:
        match = SECRET_REF.match(ref)
        assert match, ref
        names.append(f"google_secret_manager_secret.{match.group(1)}")
    return names


def test_every_workload_reaches_a_version_of_every_secret_it_reads(graph):
    workloads = _workloads(graph)
    assert len(workloads) == len(Service) + 1  # three services and the migrations job
    versions = graph.of_type("google_secret_manager_secret_version")
    for address, (container, _) in workloads.items():
        secrets = _secrets_read(container)
        assert secrets, address
        reach = graph.reachable(address)
        for secret in secrets:
            own = {v for v, body in versions.items() if body["secret"] == f"${{{secret}.id}}"}
            assert own, f"{secret} has no Terraform-managed version: {address} would start without one"
            assert own & reach, f"{address} does not wait for a version of {secret}"


def test_every_workload_reaches_its_accessor_grants_and_project_roles(graph):
    for address, (container, account) in _workloads(graph).items():
        account_address = SA_REF.search(account)
        assert account_address, account
        sa = f"google_service_account.{account_address.group(1)}"
        reach = graph.reachable(address)
        grants = {
            g for type_ in ("google_secret_manager_secret_iam_member", "google_project_iam_member")
            for g, body in graph.of_type(type_).items() if sa in graph.edges[g]
        }
        accessors = {g for g in grants if g.startswith("google_secret_manager_secret_iam_member.")}
        assert len(accessors) == len(_secrets_read(container)), address
        missing = grants - reach
        assert not missing, f"{address} does not wait for {sorted(missing)}"


def test_every_cmek_grant_names_an_agent_the_stack_creates_or_reads(graph):
    grants = graph.of_type("google_kms_crypto_key_iam_member")
    # storage, sql, redis, firestore, secret manager, artifact registry
    assert len(grants) == 6
    for address, body in grants.items():
        assert body["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
        member = body["member"]
        created = re.fullmatch(r"\$\{terraform_data\.([A-Za-z0-9_]+)\.output\.member\}", member)
        read = member == "${" + next(iter(graph.of_type("data.google_storage_project_service_account"))) + ".member}"
        assert created or read, f"{address}: {member} is not an agent the stack creates or reads"
        if created:
            agent = graph.bodies[f"terraform_data.{created.group(1)}"]
            command = agent["provisioner"][0]["local-exec"]["command"]
            assert command.startswith("gcloud beta services identity create --service="), command
            assert agent["input"]["member"].startswith("serviceAccount:service-${data.google_project.")


def test_every_cmek_user_waits_for_its_key_grant(graph):
    """A resource encrypted with a key must not be created before the agent may use the key."""
    key_fields = ("kms_key_name", "encryption_key_name", "customer_managed_key", "default_kms_key_name")
    grants = graph.of_type("google_kms_crypto_key_iam_member")
    checked = 0
    for address, body in graph.bodies.items():
        text = json.dumps({k: v for k, v in body.items() if k != "//"})
        keys = set(re.findall(r'"(?:%s)": "\$\{(google_kms_crypto_key\.[A-Za-z0-9_]+)\.id\}"' % "|".join(key_fields), text))
        for key in keys:
            checked += 1
            key_grants = {g for g, b in grants.items() if b["crypto_key_id"] == f"${{{key}.id}}"}
            assert key_grants & graph.reachable(address), f"{address} does not wait for a grant on {key}"
    # SQL, Redis, Firestore, two buckets, four secrets, the image repository
    assert checked >= 10


def test_every_image_repository_in_configuration_is_created_by_the_stack(synth, graph):
    repos = graph.of_type("google_artifact_registry_repository")
    created = {(b["location"], b["project"], b["repository_id"]) for b in repos.values()}
    images = [sc.image_repository for sc in synth.config.services.values()] + [synth.config.migrations.image_repository]
    for image in images:
        host, project, repository, _name = image.split("/")
        assert host.endswith("-docker.pkg.dev"), image
        assert (host.removesuffix("-docker.pkg.dev"), project, repository) in created, image
    api = [a for a, b in graph.of_type("google_project_service").items() if b["service"] == "artifactregistry.googleapis.com"]
    for address in repos:
        assert set(api) <= graph.reachable(address)


def test_generated_secret_values_are_expressions_generated_once(synth, graph):
    generated = {synth.config.name("better-auth-secret"), synth.config.name("db-pg-password")}
    secrets = {f"${{{a}.id}}": b["secret_id"] for a, b in graph.of_type("google_secret_manager_secret").items()}
    found = set()
    for address, body in graph.of_type("google_secret_manager_secret_version").items():
        secret_id = secrets[body["secret"]]
        if secret_id in generated:
            found.add(secret_id)
            # 2 x uuid(): 244 random bits, never a literal, in a local; sent through the
            # write-only attribute on create only (version 1), never kept in a plan or the state.
            local = body["secret_data_wo"]
            assert synth.doc["locals"][local[len("${local."):-1]] == '${replace(join("", [uuid(), uuid()]), "-", "")}', address
            assert body["secret_data_wo_version"] == 1 and "secret_data" not in body and "lifecycle" not in body, address
    assert found == generated


def test_database_user_gets_the_generated_password_and_waits_for_it(synth, graph):
    (address, user), = graph.of_type("google_sql_user").items()
    version = next(a for a, b in graph.of_type("google_secret_manager_secret_version").items()
                   if b["secret"].startswith("${google_secret_manager_secret.Secrets_DbPgPassword_"))
    # The same local as the DB_PG_PASSWORD secret's first version: one value, generated in one apply.
    assert user["password_wo"] == graph.bodies[version]["secret_data_wo"]
    assert user["password_wo_version"] == 1 and "password" not in user


def test_infra_deploy_identity_is_bound_to_this_environment_only(synth, graph):
    bindings = [b for b in graph.of_type("google_service_account_iam_member").values()
                if b["role"] == "roles/iam.workloadIdentityUser" and "Infra" in b["//"]["metadata"]["path"]]
    assert len(bindings) == 1
    env = synth.config.environment.value
    binding = bindings[0]
    assert binding["service_account_id"] == (
        f"projects/{synth.config.project_id}/serviceAccounts/{synth.config.oidc.infra_service_account}"
    )
    # principal:// (one subject), never principalSet://: only jobs in this GitHub environment.
    assert re.fullmatch(
        r"principal://iam\.googleapis\.com/\$\{google_iam_workload_identity_pool\.[A-Za-z0-9_]+\.name\}"
        rf"/subject/repo:PhaseMirror/Phase-Mirror:environment:gcp-{env}",
        binding["member"],
    ), binding["member"]
