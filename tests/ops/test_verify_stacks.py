"""The one stack list: production's DisasterRecovery stack is read, in its own region."""
from __future__ import annotations

from envconfig.aws import load
from opscli.live import stacks
from opscli.session import Aws


def test_staging_has_the_five_core_stacks():
    assert stacks.keys(load("staging")) == ("Data", "Secrets", "Observability", "Oidc", "Runtime")


def test_production_adds_disaster_recovery_read_in_its_region():
    config = load("production")
    assert stacks.keys(config)[-1] == "DisasterRecovery"
    aws = Aws(config)
    dr = stacks.regional(aws, "DisasterRecovery")
    assert dr.region == config.recovery.dr_region != aws.region
    assert dr.client("cloudformation").meta.region_name == config.recovery.dr_region
    assert stacks.regional(aws, "Data") is aws


def test_states():
    assert "UPDATE_ROLLBACK_COMPLETE" not in stacks.HEALTHY  # verify refuses to compare it
    assert "UPDATE_ROLLBACK_COMPLETE" in stacks.USABLE       # adopt leaves it alone
    assert stacks.unhealthy({"Staging-Data": "ROLLBACK_COMPLETE", "Staging-Oidc": "UPDATE_COMPLETE"}) == {
        "Staging-Data": "ROLLBACK_COMPLETE"}
