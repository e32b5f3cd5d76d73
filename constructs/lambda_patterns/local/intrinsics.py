"""CloudFormation intrinsic functions, resolved against the local resources the runner created.

Pure: the caller supplies what each logical id's ``Ref`` and attributes are, plus the pseudo parameters
and cross-stack exports. Anything that cannot be resolved raises ``Unresolvable`` naming the reason, so the
runner can skip the one resource that needs it instead of passing a wrong value to a handler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Unresolvable(ValueError):
    """A template value refers to something the runner does not know (or cannot emulate)."""


@dataclass
class Scope:
    """What intrinsics of one stack resolve against.

    :param stack: the stack name (``AWS::StackName``).
    :param attributes: logical id -> {"Ref": ..., "<Attribute>": ...} for every resource created locally.
    :param exports: export name -> value over all stacks (``Fn::ImportValue``).
    :param parameters: template parameter -> value (their defaults, usually CDK's bootstrap version).
    """

    stack: str
    attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    exports: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    region: str = REGION
    account: str = ACCOUNT_ID

    def pseudo(self, name: str) -> Any:
        """The value of a pseudo parameter such as ``AWS::Region``."""
        values = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack}/local",
            "AWS::NoValue": None,
        }
        if name not in values:
            raise Unresolvable(f"pseudo parameter {name} is not emulated")
        return values[name]

    def ref(self, name: str) -> Any:
        """``{"Ref": name}``: a pseudo parameter, a template parameter or a resource's Ref value."""
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        return self.get_att(name, "Ref")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """A resource's attribute (``Ref`` for its Ref value)."""
        if logical_id not in self.attributes:
            raise Unresolvable(f"{self.stack}/{logical_id} is not created locally")
        values = self.attributes[logical_id]
        if attribute not in values:
            what = "Ref" if attribute == "Ref" else f"attribute {attribute}"
            raise Unresolvable(f"{what} of {self.stack}/{logical_id} is not emulated")
        return values[attribute]


def resolve(value: Any, scope: Scope) -> Any:
    """``value`` with every intrinsic function replaced by its local value."""
    if isinstance(value, list):
        return [item for item in (resolve(item, scope) for item in value) if item is not None]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return scope.ref(argument)
        if key == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return scope.get_att(logical_id, resolve(attribute, scope))
        if key == "Fn::Join":
            separator, items = argument
            return str(separator).join(str(item) for item in resolve(items, scope))
        if key == "Fn::Sub":
            return _sub(argument, scope)
        if key == "Fn::Select":
            index, items = argument
            return resolve(items, scope)[int(resolve(index, scope))]
        if key == "Fn::Split":
            separator, text = argument
            return str(resolve(text, scope)).split(separator)
        if key == "Fn::ImportValue":
            name = resolve(argument, scope)
            if name not in scope.exports:
                raise Unresolvable(f"export {name} is not defined by any stack of the assembly")
            return scope.exports[name]
        if key == "Fn::Base64":
            import base64

            return base64.b64encode(str(resolve(argument, scope)).encode()).decode()
        if key.startswith("Fn::") or key == "Condition":
            raise Unresolvable(f"{key} is not emulated")
    return {key: resolve(item, scope) for key, item in value.items()}


def _sub(argument: Any, scope: Scope) -> str:
    template, variables = (argument, {}) if isinstance(argument, str) else argument
    values = {name: resolve(item, scope) for name, item in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in values:
            return str(values[name])
        if name.startswith("AWS::"):
            return str(scope.pseudo(name))
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return str(scope.get_att(logical_id, attribute))
        return str(scope.ref(name))

    return _SUB_VARIABLE.sub(replace, template)


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a value refers to through Ref, GetAtt or Sub (pseudo parameters excluded)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str) and not argument.startswith("AWS::"):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument.split(".", 1)[0] if isinstance(argument, str) else argument[0])
            elif key == "Fn::Sub":
                template = argument if isinstance(argument, str) else argument[0]
                for name in _SUB_VARIABLE.findall(template):
                    if not name.startswith(("!", "AWS::")):
                        found.add(name.split(".", 1)[0])
                if not isinstance(argument, str):
                    found |= referenced_ids(argument[1])
                    found -= set(argument[1])
            else:
                found |= referenced_ids(argument)
    return found
