"""Construct ids derived from kebab-case names (``fp-events`` -> ``FpEvents``)."""


def pascal(kebab: str) -> str:
    return "".join(part.capitalize() for part in kebab.split("-"))
