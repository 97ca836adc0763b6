"""The trust table of docs/operations.md ("Trust: one identity per purpose")
against what is built and what runs (docs/requirements.md#trust):

- every AWS OIDC role of both environments is a row, and trusts exactly the
  row's subjects (synthesized templates);
- every GCP identity trusts exactly its row's subject (synthesized Terraform
  JSON), and the pool's provider admits exactly the table's GCP subjects;
- every workflow job that assumes a cloud identity is listed, and runs in
  the environment of the row that lists it (matrix expanded);
- no subject appears in two rows.
"""
from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

from envconfig.aws import Environment
from envconfig.gcp import Environment

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "operations.md"
WORKFLOWS = REPO / ".github" / "workflows"
SUB = "token.actions.githubusercontent.com:sub"
# Files whose jobs may not yet follow the table, each with what is wrong (strict: remove once fixed).
KNOWN_UNLISTED: dict[str, str] = {}
ENVIRONMENTS = ("staging", "production")


def table_rows(text: str) -> list[dict[str, str]]:
    section = text.split("### Trust: one identity per purpose", 1)[1].splitlines()
    start = next(i for i, line in enumerate(section) if line.startswith("|"))
    lines = list(itertools.takewhile(lambda line: line.startswith("|"), section[start:]))
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in lines[2:]]


def ticks(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def environment_of(subject: str) -> str:
    return subject.rsplit(":environment:", 1)[1]


def jobs_of(cell: str) -> list[tuple[str, str]]:
    return [tuple(ticks(part)[:2]) for part in cell.split(";") if "›" in part]


ROWS = table_rows(DOC.read_text())


def test_the_table_is_read():
    assert len(ROWS) == 15
    purposes = [r["purpose"] for r in ROWS]
    assert purposes.count("deploy") == 2 and purposes.count("gcp-apply") == 2 and purposes.count("consumer") == 1


def test_no_subject_in_two_rows():
    subjects = [ticks(r["subject"])[0] for r in ROWS]
    assert len(subjects) == len(set(subjects))
    assert not any(":ref:" in s or "*" in s for s in subjects)


def test_aws_roles_trust_exactly_their_rows(aws_app):
    expected = {ticks(r["identity"])[0]: [ticks(r["subject"])[0]] for r in ROWS if r["identity"].startswith("AWS")}
    actual = {}
    for env in Environment:
        for role in aws_app.resources(env, "Oidc", "AWS::IAM::Role").values():
            (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            sub = statement["Condition"]["StringEquals"][SUB]
            actual[role["Properties"]["RoleName"]] = sub if isinstance(sub, list) else [sub]
    assert actual == expected


def test_gcp_identities_trust_exactly_their_rows(gcp_synth):
    for env in Environment:
        synth = gcp_synth[env]
        rows = [r for r in ROWS if r["purpose"].startswith("gcp-") and f"gcp-{env.value}" in r["subject"]]
        assert len(rows) == 3
        provider = synth.one("google_iam_workload_identity_pool_provider", "Oidc/Github")
        admitted = re.findall(r'assertion\.sub == "([^"]+)"', provider["attribute_condition"])
        assert sorted(admitted) == sorted(ticks(r["subject"])[0] for r in rows)
        pool = synth.ref("google_iam_workload_identity_pool", "Oidc/Github", "name")
        deploy_sa = synth.ref("google_service_account", "Oidc/Github/DeployServiceAccount", "name")
        bindings = {(b["service_account_id"], b["member"]) for b in synth.resources("google_service_account_iam_member").values()
                    if b["role"] == "roles/iam.workloadIdentityUser"}
        by_purpose = {r["purpose"]: r for r in rows}
        apply_sa = ticks(by_purpose["gcp-apply"]["identity"])[0]
        release_sa = ticks(by_purpose["gcp-release"]["identity"])[0]
        assert synth.one("google_service_account", "Oidc/Github/DeployServiceAccount")["account_id"] == release_sa.split("@")[0]
        assert release_sa.endswith(f"@{synth.config.project_id}.iam.gserviceaccount.com")
        assert bindings == {
            (f"projects/{synth.config.project_id}/serviceAccounts/{apply_sa}",
             f"principal://iam.googleapis.com/{pool}/subject/{ticks(by_purpose['gcp-apply']['subject'])[0]}"),
            (deploy_sa, f"principal://iam.googleapis.com/{pool}/subject/{ticks(by_purpose['gcp-release']['subject'])[0]}"),
        }


def _environments(job: dict) -> set[str]:
    """The job's GitHub environment(s): ``${{ matrix.x }}`` expanded over the matrix's include
    list; any other expression stands for each string literal it can yield
    (``event == 'release' && 'production' || 'staging'``) or, when it only
    passes an environment name along (``needs.check.outputs.environment``),
    for each of the two environments."""
    env = job.get("environment")
    env = env.get("name") if isinstance(env, dict) else env
    if env is None:
        return set()
    matrix = dict((job.get("strategy") or {}).get("matrix") or {})
    include = matrix.pop("include", None) or [dict(zip(matrix, values)) for values in itertools.product(*matrix.values())]
    names = {re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str(entry[m.group(1)]), env) for entry in include}
    result = set()
    for name in names:
        match = re.search(r"\$\{\{(.*?)\}\}", name)
        if not match:
            result.add(name)
            continue
        literals = [v for v in re.findall(r"'([^']*)'", match.group(1)) if v in ENVIRONMENTS]
        for value in literals or ENVIRONMENTS:
            result.add(name[:match.start()] + value + name[match.end():])
    return result


def _assumes_an_identity(job: dict) -> bool:
    for step in job.get("steps") or []:
        uses, given = str(step.get("uses", "")), step.get("with") or {}
        if uses.startswith("aws-actions/configure-aws-credentials") and not given.get("role-chaining"):
            return True
        if uses.startswith("google-github-actions/auth"):
            return True
    return False


def workflow_jobs():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            if _assumes_an_identity(job):
                marks = [pytest.mark.xfail(reason=KNOWN_UNLISTED[path.name], strict=True)] if path.name in KNOWN_UNLISTED else []
                yield pytest.param(path.name, name, job, id=f"{path.name}:{name}", marks=marks)


@pytest.mark.parametrize("file,name,job", list(workflow_jobs()))
def test_each_job_that_assumes_a_role_runs_in_its_rows_environment(file, name, job):
    listed = {environment_of(ticks(r["subject"])[0]) for r in ROWS if (file, name) in jobs_of(r["workflow job"])}
    assert listed, f"{file} › {name} assumes a cloud identity but is not in the trust table"
    assert _environments(job) == listed


def test_every_listed_job_exists():
    for row in ROWS:
        for file, name in jobs_of(row["workflow job"]):
            assert name in yaml.safe_load((WORKFLOWS / file).read_text())["jobs"], (file, name)


def test_the_cross_check_can_fail():
    job = {"environment": "${{ matrix.env }}-plan", "strategy": {"matrix": {"include": [{"env": "staging"}, {"env": "production"}]}}}
    assert _environments(job) == {"staging-plan", "production-plan"}
    assert _environments({"environment": "gcp-${{ matrix.env }}-plan", "strategy": {"matrix": {"env": ["staging", "production"]}}}) == \
        {"gcp-staging-plan", "gcp-production-plan"}
    assert _environments({"environment": "staging"}) != {"staging-oracle"}
    ternary = "gcp-${{ github.event_name == 'release' && 'production' || 'staging' }}-plan"
    assert _environments({"environment": ternary}) == {"gcp-production-plan", "gcp-staging-plan"}
    assert _environments({"environment": "gcp-${{ needs.check.outputs.environment }}-release"}) == {"gcp-staging-release", "gcp-production-release"}
    assert list(itertools.chain(jobs_of("`a.yml` › `x`; `b.yml` › `y`"))) == [("a.yml", "x"), ("b.yml", "y")]
