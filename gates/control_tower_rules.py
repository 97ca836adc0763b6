"""Which Control Tower guard rules can say anything about a set of templates.

Every control in ``cdklabs.cdk-validator-cfnguard``'s rule set selects the
resources it checks by type (``Resources.*[ Type == %S3_BUCKET_TYPE ]``,
with ``let S3_BUCKET_TYPE = "AWS::S3::Bucket"``). A rule none of whose
types occurs in the templates can only be skipped, yet ``cfn-guard`` still
parses and reports all 237 rule files for each Stage: about 2.5 s of CPU
per Stage, against 0.5 s for the 50 that apply here (docs/speed.md).

``control_tower_rule_types.json`` lists, for each rule file of the pinned
package (by the name the plugin's ``disabledRules`` takes, ``ct-s3-pr-1``),
every ``AWS::Service::Type`` literal in it. :func:`rules_without_effect`
returns the rules to leave out for a set of resource types: only rules
that name types and none of those present. A rule file that names no type,
or that is not in the list (a newer package), always runs.

Regenerate after changing the package version::

    .venv/bin/python -m gates.control_tower_rules

``tests/aws/test_control_tower.py`` fails when the list and the installed
package differ, and compares the findings of the reduced run with the whole
rule set on every synthesized template.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tarfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

RULE_TYPES_FILE = Path(__file__).with_name("control_tower_rule_types.json")
_RULES_PREFIX = "package/rules/control-tower/cfn-guard/"
_TYPE_LITERAL = re.compile(r"""["'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)["']""")


def package_tarball() -> Path:
    """The jsii tarball inside the installed wheel (found without loading it through jsii)."""
    spec = importlib.util.find_spec("cdklabs.cdk_validator_cfnguard")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cdklabs.cdk-validator-cfnguard is not installed (requirements.txt)")
    (jsii_dir,) = [Path(p) / "_jsii" for p in spec.submodule_search_locations]
    (tarball,) = sorted(jsii_dir.glob("cdk-validator-cfnguard@*.jsii.tgz"))
    return tarball


def rule_types_from_package(tarball: Path | None = None) -> dict:
    """``{"package": <tarball name>, "rules": {rule name: [types]}}`` read from the package itself."""
    tarball = tarball or package_tarball()
    rules: dict[str, list[str]] = {}
    with tarfile.open(tarball) as tar:
        for member in tar:
            if member.isfile() and member.name.startswith(_RULES_PREFIX) and member.name.endswith(".guard"):
                text = tar.extractfile(member).read().decode("utf-8")
                name = Path(member.name).stem
                if name in rules:
                    raise RuntimeError(f"{tarball.name}: two rule files named {name}; disabledRules could not tell them apart")
                rules[name] = sorted(set(_TYPE_LITERAL.findall(text)))
    if not rules:
        raise RuntimeError(f"{tarball.name}: no rule files under {_RULES_PREFIX}")
    return {"package": tarball.name, "rules": dict(sorted(rules.items()))}


@cache
def _recorded() -> dict[str, frozenset[str]]:
    data = json.loads(RULE_TYPES_FILE.read_text(encoding="utf-8"))
    return {name: frozenset(types) for name, types in data["rules"].items()}


def rules_without_effect(present_types: Iterable[str]) -> list[str]:
    """Rule names that name resource types, none of which is in ``present_types``."""
    present = frozenset(present_types)
    return sorted(name for name, types in _recorded().items() if types and not types & present)


def template_types(template_paths: Iterable[str]) -> set[str]:
    """Every resource type in the given CloudFormation templates."""
    types: set[str] = set()
    for path in template_paths:
        resources = json.loads(Path(path).read_text(encoding="utf-8")).get("Resources") or {}
        types.update(r.get("Type", "") for r in resources.values() if isinstance(r, dict))
    return types


def main() -> int:
    data = rule_types_from_package()
    RULE_TYPES_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"{RULE_TYPES_FILE}: {len(data['rules'])} rules from {data['package']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
