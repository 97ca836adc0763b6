"""The clouds' own limits on values that each pass their field's pattern.

Checked on the loaded object, so the messages still name file and field;
sources are the service documentation cited at each rule.
"""

from __future__ import annotations

import re
from envconfig.errors import ConfigError
from envconfig.models.aws import AwsConfig
from envconfig.models.gcp import GcpConfig

# https://cloud.google.com/run/docs/configuring/services/memory-limits and
# .../cpu: memory (MiB) allowed for each CPU count of a Cloud Run instance.
CLOUD_RUN_MEMORY_MIB = {"1": (128, 4096), "2": (128, 8192), "4": (2048, 16384), "6": (4096, 24576), "8": (4096, 32768)}


def _mib(memory: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", memory).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def check_cloud_run(source, field: str, cpu: str, memory: str) -> None:
    low, high = CLOUD_RUN_MEMORY_MIB[cpu]
    if not low <= _mib(memory) <= high:
        raise ConfigError(source, f"{field}.memory",
                          f"Cloud Run allows {low}Mi-{high // 1024}Gi with cpu {cpu}, got {memory} (raise cpu or change memory)")


def check_aws(config: AwsConfig) -> None:
    # CloudWatch reserves the AWS/ prefix for AWS services' own metrics
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
    if config.observability.metrics_namespace.lower().startswith("aws/"):
        raise ConfigError(config.source, "observability.metrics_namespace",
                          f"must not start with 'AWS/' (reserved for AWS services), got {config.observability.metrics_namespace!r}")


def check_gcp(config: GcpConfig) -> None:
    for service, settings in config.services.items():
        check_cloud_run(config.source, f"services.{service.value}", settings.cpu, settings.memory)
    check_cloud_run(config.source, "migrations", config.migrations.cpu, config.migrations.memory)
    budget = config.budget
    for index, threshold in enumerate(budget.alert_thresholds_usd):
        if threshold > budget.amount_usd:
            raise ConfigError(config.source, f"budget.alert_thresholds_usd[{index}]",
                              f"{threshold} USD is above the budget amount ({budget.amount_usd} USD): it would only alert after the "
                              f"budget is spent; raise amount_usd or lower the threshold")
