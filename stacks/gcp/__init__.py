"""GCP stacks (cdktf): one ``gcp-<env>`` stack per environment.

The stack composes five concern constructs (secrets, data, runtime, oidc,
observability) from the L3s in ``constructs_lib.gcp``; nothing here sets a
resource default of its own.
"""
