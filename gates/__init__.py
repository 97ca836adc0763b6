"""Policy gates run on synthesized output (checkov, cfn-lint), and the Control Tower
validation plugin that runs inside synthesis (control_tower.py)."""
