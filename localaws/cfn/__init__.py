"""CloudFormation extensions for moto: engine fixes and resource handlers."""
from .engine import check_template, install, unhandled_types  # noqa: F401
