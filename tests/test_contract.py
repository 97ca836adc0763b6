"""The environment contract (config/env_contract.yaml), shared by AWS and GCP."""

from __future__ import annotations

import pytest

from envconfig.contract import ContractError, default_contract, load_contract


@pytest.fixture
def oracle():
    return default_contract().service("oracle")


def _valid_oracle_env():
    return {name: "x" for name in default_contract().service("oracle").required}


def test_valid_environment_passes(oracle):
    oracle.check(plain=_valid_oracle_env(), secrets={}, source="test")


def test_unknown_name_is_refused(oracle):
    with pytest.raises(ContractError, match=r"env_contract.yaml: services.oracle \(environment built by test\): REDIS_URL: is not in the environment contract"):
        oracle.check(plain={**_valid_oracle_env(), "REDIS_URL": "redis://x"}, secrets={}, source="test")


def test_missing_required_name_is_refused(oracle):
    env = _valid_oracle_env()
    env.pop("NONCE_SSM")
    with pytest.raises(ContractError, match=r"NONCE_SSM: is required by the contract but missing"):
        oracle.check(plain=env, secrets={}, source="test")


def test_secret_as_plain_value_is_refused():
    api = default_contract().service("api")
    with pytest.raises(ContractError, match=r"BETTER_AUTH_SECRET: is a secret and must be injected as a secret reference"):
        api.check(plain={"BETTER_AUTH_SECRET": "hunter2"}, secrets={}, source="test")


def test_non_secret_as_secret_reference_is_refused(oracle):
    with pytest.raises(ContractError, match=r"ENVIRONMENT: is passed as a secret reference but the contract does not mark it secret"):
        oracle.check(plain={}, secrets={"ENVIRONMENT": object()}, source="test")


def test_the_applications_names_are_the_contract_names():
    api = default_contract().service("api")
    assert {"BETTER_AUTH_SECRET", "KV_REDIS_URL", "KV_REDIS_PASSWORD"} <= api.required & api.secrets
    assert "AUTH_SECRET" not in api.variables and "REDIS_URL" not in api.variables
    assert {"DYNAMODB_TABLE_PREFIX", "NONCE_SSM", "GITHUB_TOKEN_SSM", "SSM_PARAMETER_PREFIX"} <= default_contract().service("oracle").required


def test_unknown_service():
    with pytest.raises(ContractError, match=r"services.billing: no such service"):
        default_contract().service("billing")


def test_malformed_contract_file(tmp_path):
    path = tmp_path / "contract.yaml"
    path.write_text("services:\n  api:\n    variables:\n      lower_case: {required: true}\n")
    with pytest.raises(ContractError.__mro__[1], match=r"services.api.variables.lower_case: variable names are UPPER_SNAKE_CASE"):
        load_contract(path)
