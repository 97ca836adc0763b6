"""GCP L3 constructs (cdktf) with secure defaults.

Each module builds one logical entity; every created resource is a public
attribute. All cdktf / provider names come from :mod:`constructs_lib.gcp.tf`.
"""
