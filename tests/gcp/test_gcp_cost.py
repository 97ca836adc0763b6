"""The cost estimate (envconfig/gcp_cost.py) and the loader's idle-cost check."""
from __future__ import annotations

import pytest

from envconfig import ConfigError
from envconfig.gcp import load_environment, load_gcp_config
from envconfig.gcp_cost import PRICES_AS_OF, estimate
from envconfig.location import REPO_CONFIG_DIR
from tests.config_edit import DELETE, set_field, write_edited

STAGING = REPO_CONFIG_DIR / "gcp" / "staging.yaml"


def edited(tmp_path, *edits):
    def mutate(data):
        for edit in edits:
            edit(data)
    return load_gcp_config(write_edited(STAGING, tmp_path / "staging.yaml", mutate))


def test_the_price_table_is_dated():
    assert PRICES_AS_OF == "2026-12-01"


def test_agent_always_allocated_costs_what_the_list_price_says():
    # 2 vCPU x 0.000018 + 1 GiB x 0.000002 per second, 730 h: the always-allocated agent.
    agent = next(l for l in estimate(load_environment("staging")).lines if l.item == "Cloud Run agent")
    assert agent.idle_usd == pytest.approx(99.86, abs=0.01)


def test_scale_to_zero_and_request_based_minimums_cost_little(tmp_path):
    est = estimate(edited(tmp_path, set_field("services.agent.min_instances", 0)))
    assert next(l for l in est.lines if l.item == "Cloud Run agent").idle_usd == 0
    # 1 vCPU + 0.5 GiB at the idle minimum-instance rate (0.0000025 each) for 730 h.
    assert next(l for l in est.lines if l.item == "Cloud Run websocket").idle_usd == pytest.approx(9.86, abs=0.01)


def test_idle_cost_above_the_first_alert_without_a_reason_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        edited(tmp_path, set_field("budget.idle_cost_reason", DELETE))
    message = str(err.value)
    assert "staging.yaml: budget.idle_cost_reason: estimated idle cost" in message
    assert "exceeds the first budget alert (100 USD" in message and "Cloud Run agent 99.86" in message


def test_idle_cost_below_the_first_alert_needs_no_reason(tmp_path):
    # No always-on agent, no LiveKit VM: websocket 9.86 + SQL 10.17 + Redis 35.77 + LB 18.25 = 74.05.
    config = edited(tmp_path, set_field("budget.idle_cost_reason", DELETE), set_field("services.agent.min_instances", 0),
                    set_field("livekit", {"enabled": False}))
    assert estimate(config).idle_usd == pytest.approx(74.05, abs=0.01)


def test_a_reason_must_say_something(tmp_path):
    with pytest.raises(ConfigError, match="budget.idle_cost_reason: must say why"):
        edited(tmp_path, set_field("budget.idle_cost_reason", "ok"))


def test_an_unpriced_livekit_machine_is_named(tmp_path):
    with pytest.raises(ConfigError, match="livekit.machine_type: has no price in envconfig/gcp_cost.py"):
        edited(tmp_path, set_field("livekit.machine_type", "n2-highmem-96"))


def test_production_regional_sql_is_priced_twice():
    sql = next(l for l in estimate(load_environment("production")).lines if l.item == "Cloud SQL")
    # db-custom-2-7680: (2 x 0.0413 + 7.5 x 0.0070) x 730 = 98.55; x2 HA + 2 x 10 GB x 0.17 + 10 GB x 0.08 backups.
    assert sql.idle_usd == pytest.approx(201.45, abs=0.01)
