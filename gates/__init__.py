"""Policy gates run on synthesized output (checkov, cfn-lint)."""
