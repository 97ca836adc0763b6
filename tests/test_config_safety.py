"""Configuration files as people really break them: keys given twice, other
encodings, YAML typos, files that are fine alone and wrong together, values
the clouds reject, typos in key names; and the JSON Schemas generated from
the loaders. Each case was a silent success or a traceback before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import app
import gcp_app
from envconfig import ConfigError, aws, contract, gcp
from envconfig.location import REPO_CONFIG_DIR
from envconfig.reader import read_yaml
from envconfig.schema import SCHEMA_DIR, generate, render
from tests.config_edit import set_field, write_edited


@pytest.fixture
def candidate(tmp_path, monkeypatch) -> Path:
    """A full copy of config/ that every loader reads (MD_CONFIG_DIR)."""
    shutil.copytree(REPO_CONFIG_DIR, tmp_path / "config")
    monkeypatch.setenv("MD_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def edit_text(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def edit(path: Path, dotted: str, value) -> Path:
    return write_edited(path, path, set_field(dotted, value))


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


# ---- duplicate keys -------------------------------------------------------

def test_duplicate_key_in_an_aws_file_names_file_line_and_field(candidate):
    """Before: PITR 35 then 7 synthesized 7."""
    path = edit_text(candidate / "aws" / "staging.yaml", "  pitr_recovery_period_days: 35\n",
                     "  pitr_recovery_period_days: 35\n  pitr_recovery_period_days: 7\n")
    line = path.read_text().splitlines().index("  pitr_recovery_period_days: 7") + 1
    with pytest.raises(ConfigError) as error:
        aws.load("staging")
    assert str(error.value) == (f"{path}:{line}: data.pitr_recovery_period_days: is given twice (first on line {line - 1}); "
                                "YAML would silently keep only the last one")


def test_duplicate_variable_in_the_contract(candidate):
    """Before: a variable listed twice became not-required."""
    path = edit_text(candidate / "env_contract.yaml", '      NONCE_SSM: {required: true,',
                     '      NONCE_SSM: {required: false}\n      NONCE_SSM: {required: true,')
    with pytest.raises(ConfigError, match=r"env_contract.yaml:\d+: services.oracle.variables.NONCE_SSM: is given twice"):
        contract.load_contract(path)


def test_duplicate_availability_in_a_gcp_file(candidate):
    path = edit_text(candidate / "gcp" / "production.yaml", "  availability: REGIONAL", "  availability: REGIONAL\n  availability: ZONAL")
    with pytest.raises(ConfigError, match=r"production.yaml:\d+: sql.availability: is given twice"):
        gcp.load_environment("production")


def test_yaml_merge_keys_may_still_override(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("base: &b {a: 1, b: 2}\nother:\n  <<: *b\n  b: 3\n")
    assert read_yaml(path)["other"] == {"a": 1, "b": 3}


# ---- encodings and YAML errors: one line, file:line -----------------------

def test_non_utf8_byte_is_one_line_with_its_line(candidate, capsys):
    """Before: a UnicodeDecodeError traceback."""
    path = candidate / "aws" / "staging.yaml"
    path.write_bytes(path.read_bytes().replace(b"region: us-east-1", b"region: us-east-\xe9"))
    assert app.main() == 2
    assert one_line_error(capsys) == f"configuration error: {path}:6: <file>: is not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_a_utf8_byte_order_mark_is_not_content(candidate):
    path = candidate / "aws" / "staging.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert aws.load("staging").region == "us-east-1"


def test_yaml_syntax_error_is_one_line_naming_the_file(candidate, capsys):
    """Before: 4-8 lines naming '<unicode string>'."""
    path = edit_text(candidate / "gcp" / "staging.yaml", "  tier: BASIC", "  tier: [BASIC")
    assert gcp_app.main() == 2
    err = one_line_error(capsys)
    assert err.startswith(f"gcp_app: configuration error: {path}:") and "<file>: is not valid YAML: " in err
    assert "<unicode string>" not in err


# ---- MD_CONFIG_DIR for every loader ----------------------------------------

def test_md_config_dir_reaches_the_gcp_app_and_the_contract(candidate, capsys):
    """Before: gcp_app.py and the contract read the repository's files: a false pass."""
    edit(candidate / "gcp" / "staging.yaml", "redis.memory_size_gb", 0)
    assert gcp_app.main() == 2
    assert f"{candidate}/gcp/staging.yaml: redis.memory_size_gb: must be between 1 and 300" in one_line_error(capsys)
    edit_text(candidate / "env_contract.yaml", "      NONCE_SSM: {required: true", "      NONCE_SSM: {required: maybe")
    with pytest.raises(ConfigError, match=f"{candidate}/env_contract.yaml: services.oracle.variables.NONCE_SSM.required: must be true or false"):
        contract.default_contract()


# ---- rules across files ----------------------------------------------------

def test_one_terraform_state_for_both_stacks_is_refused(candidate):
    # One bucket per environment in its own project (docs/requirements.md#gcp-state): staging's bucket is refused by name.
    edit(candidate / "gcp" / "production.yaml", "backend.prefix", "gcp-staging")
    edit(candidate / "gcp" / "production.yaml", "backend.bucket", "mirror-dissonance-stg-tfstate")
    with pytest.raises(ConfigError, match=r"production.yaml: backend.bucket: must be named 'mirror-dissonance-prd-<suffix>'"):
        gcp.load_all()


def test_one_gcp_project_for_both_environments_is_refused(candidate):
    staging, production = gcp.load_environment("staging"), gcp.load_environment("production")
    path = candidate / "gcp" / "production.yaml"
    # every mention, image paths included (they must name the file's own project)
    path.write_text(path.read_text().replace(production.project_id, staging.project_id))
    with pytest.raises(ConfigError, match=r"production.yaml: project_id: is also staging.yaml's project"):
        gcp.load_all()


def test_two_oidc_providers_in_one_account_are_refused(candidate):
    edit(candidate / "aws" / "production.yaml", "account", aws.load("staging").account)
    with pytest.raises(ConfigError, match=r"production.yaml: github.create_oidc_provider: staging.yaml already creates the GitHub OIDC provider in account 123456789012"):
        aws.load_all()
    # the documented way out: reference the existing provider
    path = candidate / "aws" / "production.yaml"
    edit(path, "github.create_oidc_provider", False)
    edit(path, "github.existing_oidc_provider_arn", "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")
    assert aws.load_all()


# ---- the clouds' limits ----------------------------------------------------

@pytest.mark.parametrize("cloud, env, field, value, message", [
    ("aws", "staging", "github.infrastructure_repository", "PhaseMirror/Phase-Mirror.git", "github.infrastructure_repository: must be a GitHub repository of the form owner/name (no URL, no .git)"),
    ("aws", "staging", "observability.metrics_namespace", "AWS/Lambda", "observability.metrics_namespace: must not start with 'AWS/'"),
    ("aws", "staging", "observability.thresholds.api_latency_p95_ms.threshold", float("inf"), "observability.thresholds.api_latency_p95_ms.threshold: must be a finite number, got inf"),
    ("aws", "staging", "observability.thresholds.table_throttle.threshold", float("nan"), "observability.thresholds.table_throttle.threshold: must be a finite number, got nan"),
    ("gcp", "staging", "services.agent.memory", "512Mi", None),  # agent has cpu 2 in production only: fine here
    ("gcp", "production", "services.agent.cpu", "8", "services.agent.memory: Cloud Run allows 4096Mi-32Gi with cpu 8, got 1Gi"),
    ("gcp", "staging", "services.api.memory", "512Gi", "services.api.memory: Cloud Run allows 128Mi-4Gi with cpu 1, got 512Gi"),
    ("gcp", "staging", "budget.amount_usd", 150, "budget.alert_thresholds_usd[2]: 200 USD is above the budget amount (150 USD)"),
    ("gcp", "staging", "app.trusted_origins", ["https://app.example.com/login"], "app.trusted_origins[0]: must be an https:// origin"),
    ("gcp", "staging", "github.infrastructure_repository", "owner/name.git", "github.infrastructure_repository: must be a GitHub repository of the form owner/name (no URL, no .git)"),
    ("gcp", "staging", "monitoring.latency_p95_ms", float("inf"), "monitoring.latency_p95_ms: must be a finite number"),
])
def test_values_the_cloud_rejects_or_reads_otherwise(candidate, cloud, env, field, value, message):
    path = edit(candidate / cloud / f"{env}.yaml", field, value)
    load = (lambda: aws.load(env)) if cloud == "aws" else (lambda: gcp.load_environment(env))
    if message is None:
        load()
        return
    with pytest.raises(ConfigError) as error:
        load()
    assert str(error.value).startswith(f"{path}: {message}"), str(error.value)


# ---- typos ------------------------------------------------------------------

def test_a_typo_in_a_required_key_names_the_typo_and_the_intended_key(candidate):
    """Before: 'data.pitr_recovery_period_days: is required'."""
    path = edit_text(candidate / "aws" / "staging.yaml", "pitr_recovery_period_days:", "pitr_recovery_period_day:")
    with pytest.raises(ConfigError) as error:
        aws.load("staging")
    assert str(error.value) == (f"{path}: data.pitr_recovery_period_day: is not a known setting; did you mean "
                                "'pitr_recovery_period_days'? (data.pitr_recovery_period_days is required)")


def test_a_typo_in_an_optional_key_suggests_the_known_one(candidate):
    path = edit_text(candidate / "aws" / "staging.yaml", "  max_session_hours: 1", "  max_session_hour: 1")
    with pytest.raises(ConfigError, match=r"github.max_session_hour: is not a known setting; did you mean 'max_session_hours'\?"):
        aws.load("staging")


def test_contract_never_advises_a_password_as_a_plain_value():
    oracle = contract.default_contract().service("api")
    with pytest.raises(ConfigError) as error:
        oracle.check(plain={}, secrets={"DB_PG_HOST": "ref"}, source="test")
    assert "plain value" not in str(error.value) and "add `secret: true`" in str(error.value)


# ---- JSON Schemas ---------------------------------------------------------

def test_committed_schemas_are_current():
    """Regenerate with: .venv/bin/python -m envconfig.schema"""
    for name, schema in generate().items():
        assert (SCHEMA_DIR / name).read_text() == render(schema), f"config/schema/{name} is stale"


def test_every_configuration_file_points_at_its_schema_and_passes_it():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    for path, schema in [(REPO_CONFIG_DIR / "aws" / "staging.yaml", "aws"), (REPO_CONFIG_DIR / "aws" / "production.yaml", "aws"),
                         (REPO_CONFIG_DIR / "gcp" / "staging.yaml", "gcp"), (REPO_CONFIG_DIR / "gcp" / "production.yaml", "gcp"),
                         (REPO_CONFIG_DIR / "env_contract.yaml", "env_contract")]:
        first = path.read_text().splitlines()[0]
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert first.startswith("# yaml-language-server: $schema=") and target == SCHEMA_DIR / f"{schema}.schema.json"
        jsonschema.validate(yaml.safe_load(path.read_text()), json.loads(target.read_text()))


def test_schema_rejects_what_the_loader_rejects_field_by_field():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads((SCHEMA_DIR / "aws.schema.json").read_text())
    data = yaml.safe_load((REPO_CONFIG_DIR / "aws" / "staging.yaml").read_text())
    data["data"]["pitr_recovery_period_days"] = 90
    with pytest.raises(jsonschema.ValidationError, match="90 is greater than the maximum of 35"):
        jsonschema.validate(data, schema)
    data["data"]["pitr_recovery_period_days"] = 35
    data["data"]["pitr_recovery_day"] = 7
    with pytest.raises(jsonschema.ValidationError, match="pitr_recovery_day"):
        jsonschema.validate(data, schema)


def test_a_field_a_loader_adds_appears_in_the_schema_without_schema_code():
    """What `recovery` and `gcp` do when they add a field: one declaration."""
    from pydantic.dataclasses import dataclass

    from envconfig.models.fields import MODEL_CONFIG, Int, Str
    from envconfig.validation import adapter

    @dataclass(frozen=True, config=MODEL_CONFIG)
    class Backup:
        copy_region: Str("[a-z]+-[a-z]+-[0-9]", "an AWS region")
        copies: Int(1, 5)

    schema = adapter(Backup).json_schema()
    assert schema["properties"]["copies"] == {"type": "integer", "minimum": 1, "maximum": 5, "title": "Copies"}
    assert schema["required"] == ["copy_region", "copies"] and schema["additionalProperties"] is False
