"""Just enough CloudFormation to run our synthesized template on moto.

moto's own CloudFormation deploys only part of a CDK template (no SNS subscriptions, queue
policies, API stages or state machines: see NOTES.md), so the local runtime reads the template
itself. This module resolves the intrinsic functions the template uses, given the physical ids
and attributes of the resources created so far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class UnsupportedTemplate(Exception):
    pass


@dataclass
class Created:
    """What a created resource answers to `Ref` and `Fn::GetAtt`."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class Resolver:
    def __init__(self, account: str, region: str, resources: dict[str, Any]):
        self.account = account
        self.region = region
        self.resources = resources
        self.created: dict[str, Created] = {}
        self._pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "local",
            "AWS::NoValue": None,
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(p) for p in self.resolve(parts))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = arg
                return self.resolve(text).split(separator)
            if key.startswith("Fn::") or key == "Condition":
                raise UnsupportedTemplate(f"intrinsic {key} is not supported by the local runtime")
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> Any:
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self.created:
            return self.created[name].ref
        raise UnsupportedTemplate(f"Ref to {name} before it was created (or of an unsupported type)")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        created = self.created.get(logical_id)
        if created is None or attribute not in created.attributes:
            raise UnsupportedTemplate(f"Fn::GetAtt {logical_id}.{attribute} is not available locally")
        return created.attributes[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._get_att(logical_id, attribute)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def depends_on_uncreated(self, value: Any) -> bool:
        """True if resolving `value` needs a resource that is not created yet."""
        if isinstance(value, list):
            return any(self.depends_on_uncreated(v) for v in value)
        if not isinstance(value, dict):
            return False
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return arg not in self._pseudo and arg not in self.created and arg in self.resources
            if key == "Fn::GetAtt":
                logical_id = arg[0] if isinstance(arg, list) else arg.split(".", 1)[0]
                return logical_id not in self.created
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                names = re.findall(r"\$\{([^}!]+)\}", text)
                rest = [] if isinstance(arg, str) else [arg[1]]
                return any(
                    n.split(".")[0] in self.resources and n.split(".")[0] not in self.created for n in names
                ) or self.depends_on_uncreated(rest)
        return any(self.depends_on_uncreated(v) for v in value.values())
