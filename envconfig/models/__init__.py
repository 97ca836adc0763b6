"""The configuration files' shapes, declared once.

One frozen pydantic dataclass per file section. Validation (through
:func:`envconfig.validation.validate`) and the published JSON Schemas
(:mod:`envconfig.schema`) both come from these declarations. The modules here
import nothing from the loaders, the policy or the limits: those import them.
"""
