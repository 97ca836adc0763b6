"""Stacks receive their own configuration section and the environment's
names, not the whole environment; the names are the same either way."""

from __future__ import annotations

import inspect

from envconfig.aws import AwsConfig, AwsNaming, Environment, TableName, load
from stacks.data import DataStack
from stacks.runtime import RuntimeStack
from stacks.secrets import SecretsStack


def test_the_data_secrets_and_runtime_stacks_do_not_take_the_whole_environment():
    for stack in (DataStack, SecretsStack, RuntimeStack):
        annotations = {name: str(p.annotation) for name, p in inspect.signature(stack.__init__).parameters.items()}
        assert "config" not in annotations, stack
        assert not any("AwsConfig" in a for a in annotations.values()), (stack, annotations)
    assert set(inspect.signature(DataStack.__init__).parameters) == {"self", "scope", "id_", "names", "data", "recovery"}
    assert set(inspect.signature(SecretsStack.__init__).parameters) == {"self", "scope", "id_", "names"}
    assert set(inspect.signature(RuntimeStack.__init__).parameters) == {"self", "scope", "id_", "names", "runtime", "observability"}


def test_the_naming_object_names_what_the_environment_names():
    names = AwsNaming("mirror-dissonance", Environment.STAGING, "123456789012")
    assert names.table_name(TableName.CONSENT) == "mirror-dissonance-consent-staging"
    assert names.parameter_prefix == "/mirror-dissonance/staging/"
    assert names.nonce_parameter == "/mirror-dissonance/staging/nonce"
    assert names.baselines_bucket == "mirror-dissonance-staging-baselines-123456789012"
    assert names.restore_drill_table(TableName.FP_EVENTS) == "mirror-dissonance-fp-events-staging-restore-drill"
    assert not names.is_production
    config: AwsConfig = load("staging")
    assert config.names == names
    assert config.table_name(TableName.CONSENT) == "mirror-dissonance-consent-staging"
    assert config.parameter_prefix == "/mirror-dissonance/staging/" and config.deploy_lock_parameter == names.deploy_lock_parameter
