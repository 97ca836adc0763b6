"""Per-environment configuration: typed, frozen, validated before any construct is built.

Everything a user can get wrong in a configuration file is reported as a
:class:`ConfigError` naming the file, the field and the rule it broke.
"""

from envconfig.errors import ConfigError

__all__ = ["ConfigError"]
