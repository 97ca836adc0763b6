"""Monthly cost estimate of one GCP environment, from a pinned, dated price table.

Used twice (docs/requirements.md#cost):

- ``bin/gcp-release plan`` prints the estimate beside the plan, so a reviewer
  sees what a change costs before approving it;
- the GCP loader refuses a configuration whose *idle* cost (what runs with no
  traffic at all: minimum instances, databases, caches, the LiveKit VM, load
  balancer rules, the assumed log volume) exceeds its first budget alert,
  unless ``budget.idle_cost_reason`` says why. A budget alert that fires every
  month on idle spend alone teaches everyone to ignore it.

The prices are list prices in USD for us-central1 (Tier 1), read on
``PRICES_AS_OF`` from the pages in ``PRICE_SOURCES``; they are not fetched at
run time (no network on the loader's path, and a price change must show up as
a reviewed diff of this table). Other regions cost the same or more: the
estimate is a floor there, which the description says. No free tier is
subtracted except Cloud Logging's 50 GiB per project, which is per project and
so per environment here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from envconfig.errors import ConfigError

if TYPE_CHECKING:
    from envconfig.models.gcp import GcpConfig

PRICES_AS_OF = "2026-12-01"
PRICE_SOURCES = (
    "https://cloud.google.com/run/pricing",
    "https://cloud.google.com/sql/pricing",
    "https://cloud.google.com/memorystore/docs/redis/pricing",
    "https://cloud.google.com/compute/vm-instance-pricing",
    "https://cloud.google.com/vpc/network-pricing",
    "https://cloud.google.com/stackdriver/pricing",
)
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600

# The table (USD). Keys name the unit.
PRICES = {
    # Cloud Run, instance-based billing ("CPU always allocated"): every second an instance exists.
    "run_instance_vcpu_second": 0.000018,
    "run_instance_gib_second": 0.000002,
    # Cloud Run, request-based billing: an idle minimum instance is billed at the idle rate.
    "run_idle_min_vcpu_second": 0.0000025,
    "run_idle_min_gib_second": 0.0000025,
    # Cloud SQL for PostgreSQL, Enterprise edition; HA (REGIONAL) doubles instance and storage.
    "sql_shared_hour": {"db-f1-micro": 0.0105, "db-g1-small": 0.0350},
    "sql_vcpu_hour": 0.0413,
    "sql_gib_hour": 0.0070,
    "sql_ssd_gib_month": 0.17,
    "sql_backup_gib_month": 0.08,
    # Memorystore for Redis, M1 capacity tier (1-4 GB), per GB-hour.
    "redis_gb_hour": {"BASIC": 0.049, "STANDARD_HA": 0.064},
    # Compute Engine (LiveKit VM), on-demand, plus its static external IP in use and boot disk.
    "vm_hour": {"e2-small": 0.01675, "e2-medium": 0.03351, "e2-standard-2": 0.06701, "e2-standard-4": 0.13402},
    "static_ip_hour": 0.005,
    "pd_balanced_gib_month": 0.10,
    # Global external Application Load Balancer: the first five forwarding rules together.
    "lb_first_five_rules_hour": 0.025,
    "lb_extra_rule_hour": 0.010,
    # Cloud Logging ingestion beyond the free 50 GiB per project and month.
    "logging_gib": 0.50,
    "logging_free_gib": 50,
}

# Assumptions an estimate cannot read from configuration, stated once.
LIVEKIT_BOOT_DISK_GIB = 20           # constructs_lib/gcp/livekit.py boot disk
EDGE_FORWARDING_RULES = 2            # HTTPS and the HTTP -> HTTPS redirect (constructs_lib/gcp/edge.py)
LIVEKIT_FORWARDING_RULES = 1         # TURN over TLS on 443 (constructs_lib/gcp/livekit.py), when it has a TURN domain
# Idle log volume per month: subnet flow logs at full sampling, load-balancer
# request logs, Cloud SQL statement logs and audit logs with no user traffic
# (health checks, uptime checks, scheduler). A busy month is far more.
IDLE_LOG_GIB_PER_MONTH = {"staging": 20, "production": 40}


@dataclass(frozen=True)
class Line:
    item: str
    idle_usd: float
    note: str


@dataclass(frozen=True)
class Estimate:
    environment: str
    lines: tuple[Line, ...]
    first_alert_usd: int
    budget_usd: int

    @property
    def idle_usd(self) -> float:
        return round(sum(line.idle_usd for line in self.lines), 2)

    def describe(self) -> str:
        rows = [f"cost estimate gcp-{self.environment} (idle, USD/month; prices of {PRICES_AS_OF}, us-central1 list):"]
        rows += [f"  {line.item:<34} {line.idle_usd:>9.2f}  {line.note}" for line in self.lines]
        rows.append(f"  {'total idle':<34} {self.idle_usd:>9.2f}  first budget alert {self.first_alert_usd}, "
                    f"budget {self.budget_usd}")
        rows.append("  traffic adds Cloud Run request time above minimum instances, egress and log volume")
        return "\n".join(rows)


def _gib(memory: str) -> float:
    value = int(memory[:-2])
    return value / 1024 if memory.endswith("Mi") else float(value)


def _run_lines(config: "GcpConfig") -> list[Line]:
    lines = []
    for service, sc in config.services.items():
        if sc.min_instances == 0:
            lines.append(Line(f"Cloud Run {service.value}", 0.0, "min instances 0 (scales to zero)"))
            continue
        cpu, gib = int(sc.cpu) * sc.min_instances, _gib(sc.memory) * sc.min_instances
        if sc.cpu_always_allocated:
            usd = (cpu * PRICES["run_instance_vcpu_second"] + gib * PRICES["run_instance_gib_second"]) * SECONDS_PER_MONTH
            note = f"{sc.min_instances} x {sc.cpu} vCPU {sc.memory}, CPU always allocated"
        else:
            usd = (cpu * PRICES["run_idle_min_vcpu_second"] + gib * PRICES["run_idle_min_gib_second"]) * SECONDS_PER_MONTH
            note = f"{sc.min_instances} x {sc.cpu} vCPU {sc.memory} idle minimum"
        lines.append(Line(f"Cloud Run {service.value}", round(usd, 2), note))
    return lines


def _sql_line(config: "GcpConfig") -> Line:
    tier = config.sql.tier.value
    shared = PRICES["sql_shared_hour"]
    if tier in shared:
        hourly = shared[tier]
    else:  # db-custom-<vCPU>-<MiB>
        _, _, vcpu, mib = tier.split("-")
        hourly = int(vcpu) * PRICES["sql_vcpu_hour"] + int(mib) / 1024 * PRICES["sql_gib_hour"]
    ha = 2 if config.sql.availability.value == "REGIONAL" else 1
    disk = config.sql.disk_size_gb
    # Backups are incremental; assume the retained set is about one disk's size.
    usd = ha * (hourly * HOURS_PER_MONTH + disk * PRICES["sql_ssd_gib_month"]) + disk * PRICES["sql_backup_gib_month"]
    return Line("Cloud SQL", round(usd, 2), f"{tier} {config.sql.availability.value}, {disk} GB SSD, backups ~{disk} GB")


def estimate(config: "GcpConfig") -> Estimate:
    lines = _run_lines(config)
    lines.append(_sql_line(config))
    redis = config.redis
    lines.append(Line("Memorystore Redis", round(PRICES["redis_gb_hour"][redis.tier.value] * redis.memory_size_gb * HOURS_PER_MONTH, 2),
                      f"{redis.tier.value} {redis.memory_size_gb} GB"))
    if config.livekit:
        machine = config.livekit.machine_type
        if machine not in PRICES["vm_hour"]:
            raise ConfigError(config.source, "livekit.machine_type",
                              f"has no price in envconfig/gcp_cost.py (priced: {sorted(PRICES['vm_hour'])}), got {machine!r}")
        usd = (PRICES["vm_hour"][machine] + PRICES["static_ip_hour"]) * HOURS_PER_MONTH + LIVEKIT_BOOT_DISK_GIB * PRICES["pd_balanced_gib_month"]
        lines.append(Line("LiveKit VM", round(usd, 2), f"{machine}, static IP, {LIVEKIT_BOOT_DISK_GIB} GiB disk"))
    edge = bool(config.domains.api or config.domains.websocket or config.frontends)
    rules = EDGE_FORWARDING_RULES * edge + LIVEKIT_FORWARDING_RULES * bool(getattr(config.livekit, "turn_domain", None))
    if rules:
        usd = (PRICES["lb_first_five_rules_hour"] + max(0, rules - 5) * PRICES["lb_extra_rule_hour"]) * HOURS_PER_MONTH
        lines.append(Line("Load balancer", round(usd, 2), f"{rules} forwarding rules"))
    gib = IDLE_LOG_GIB_PER_MONTH[config.environment.value]
    lines.append(Line("Cloud Logging", round(max(0, gib - PRICES["logging_free_gib"]) * PRICES["logging_gib"], 2),
                      f"~{gib} GiB idle, {PRICES['logging_free_gib']} GiB free per project"))
    return Estimate(config.environment.value, tuple(lines), config.budget.alert_thresholds_usd[0], config.budget.amount_usd)


def check_idle_cost(config: "GcpConfig") -> "GcpConfig":
    """The loader's hook: idle cost above the first budget alert needs a stated reason."""
    est = estimate(config)
    if est.idle_usd > est.first_alert_usd and not config.budget.idle_cost_reason:
        top = sorted(est.lines, key=lambda line: -line.idle_usd)[:3]
        raise ConfigError(config.source, "budget.idle_cost_reason",
                          f"estimated idle cost {est.idle_usd:.2f} USD/month exceeds the first budget alert "
                          f"({est.first_alert_usd} USD; largest: " + ", ".join(f"{l.item} {l.idle_usd:.2f}" for l in top)
                          + "): lower it or say why in budget.idle_cost_reason")
    return config
