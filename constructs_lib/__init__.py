"""Shared L3 constructs with secure defaults (AWS in constructs_lib.aws, GCP in constructs_lib.gcp)."""
