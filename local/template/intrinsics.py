"""Resolve CloudFormation intrinsics against local names, parameters and conditions.

`Resolver.resolve(value)` turns `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Select`,
`Fn::Split`, `Fn::Join`, `Fn::If` (with the template's `Conditions`),
`Fn::FindInMap`, `Fn::Base64` and `Fn::GetAZs` into plain values. Physical ids come
from a `PhysicalIds` (the local stack passes the ids its emulator created); whatever
it does not know is named the way `LocalNames` derives it from the template alone,
so the same template resolves without any AWS at all.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class TemplateError(ValueError):
    """The template asks for something that cannot be resolved locally."""


class _NoValue:
    """`AWS::NoValue`: the property it stands in for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


@dataclass(frozen=True)
class Pseudo:
    """The pseudo parameters of the local "stack"."""

    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "local"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    def values(self) -> dict[str, Any]:
        stack_id = (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}"
            f":stack/{self.stack_name}/00000000-0000-0000-0000-000000000000"
        )
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": stack_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }


class PhysicalIds(Protocol):
    """Ids the local emulator gave resources; `None` means "derive it"."""

    def ref(self, logical_id: str) -> Any | None: ...

    def get_att(self, logical_id: str, attribute: str) -> Any | None: ...


class NoPhysicalIds:
    """Nothing created anywhere: every id is derived from the template."""

    def ref(self, logical_id: str) -> Any | None:
        return None

    def get_att(self, logical_id: str, attribute: str) -> Any | None:
        return None


# The property that names a resource, by type (the rest get a derived name).
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::IAM::Role": "RoleName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SSM::Parameter": "Name",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Events::Rule": "Name",
    "AWS::Serverless::Api": "Name",
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def short_id(seed: str, length: int = 10) -> str:
    """A stable lowercase id (API ids, pool ids): the same seed, the same id."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    number = int(digest, 16)
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or (isinstance(key, str) and key.startswith("Fn::"))


class LocalNames:
    """Names and ARNs derived from the template alone, the way the stack names them."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def name(self, logical_id: str) -> str:
        """The physical name: the naming property if declared, else the logical id."""
        resource = self._resolver.resource(logical_id)
        prop = NAME_PROPERTIES.get(resource.get("Type", ""))
        declared = resource.get("Properties", {}).get(prop) if prop else None
        if declared is not None:
            return str(self._resolver.resolve(declared))
        if resource.get("Type") == "AWS::SQS::Queue" and self._fifo(resource):
            return f"{logical_id}.fifo"
        return logical_id

    def _fifo(self, resource: dict[str, Any]) -> bool:
        fifo = self._resolver.resolve(resource.get("Properties", {}).get("FifoQueue"))
        return str(fifo).lower() == "true"

    def ref(self, logical_id: str) -> Any:
        kind = self._resolver.resource(logical_id).get("Type", "")
        pseudo = self._resolver.pseudo
        if kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            return short_id(f"api:{pseudo.stack_name}:{logical_id}")
        if kind == "AWS::Cognito::UserPool":
            return f"{pseudo.region}_{short_id(f'pool:{logical_id}', 9)}"
        if kind == "AWS::Cognito::UserPoolClient":
            return short_id(f"client:{logical_id}", 26)
        if kind == "AWS::KMS::Key":
            return _uuid_like(f"key:{logical_id}")
        if kind in (
            "AWS::SQS::Queue",
            "AWS::SNS::Topic",
            "AWS::SecretsManager::Secret",
            "AWS::Serverless::LayerVersion",
            "AWS::Lambda::LayerVersion",
        ):
            if kind == "AWS::SQS::Queue":
                return (
                    f"https://sqs.{pseudo.region}.{pseudo.url_suffix}/"
                    f"{pseudo.account_id}/{self.name(logical_id)}"
                )
            return self.arn(logical_id)
        return self.name(logical_id)

    def arn(self, logical_id: str) -> str:
        kind = self._resolver.resource(logical_id).get("Type", "")
        p = self._resolver.pseudo
        region_account = f"{p.region}:{p.account_id}"
        name = self.name(logical_id)
        arns: dict[str, Callable[[], str]] = {
            "AWS::DynamoDB::Table": lambda: (
                f"arn:{p.partition}:dynamodb:{region_account}:table/{name}"
            ),
            "AWS::Serverless::Function": lambda: (
                f"arn:{p.partition}:lambda:{region_account}:function:{name}"
            ),
            "AWS::Lambda::Function": lambda: (
                f"arn:{p.partition}:lambda:{region_account}:function:{name}"
            ),
            "AWS::SQS::Queue": lambda: f"arn:{p.partition}:sqs:{region_account}:{name}",
            "AWS::SNS::Topic": lambda: f"arn:{p.partition}:sns:{region_account}:{name}",
            "AWS::Scheduler::ScheduleGroup": lambda: (
                f"arn:{p.partition}:scheduler:{region_account}:schedule-group/{name}"
            ),
            "AWS::Scheduler::Schedule": lambda: (
                f"arn:{p.partition}:scheduler:{region_account}:schedule/default/{name}"
            ),
            "AWS::SecretsManager::Secret": lambda: (
                f"arn:{p.partition}:secretsmanager:{region_account}:secret:{name}"
            ),
            "AWS::KMS::Key": lambda: (
                f"arn:{p.partition}:kms:{region_account}:key/{self.ref(logical_id)}"
            ),
            "AWS::KMS::Alias": lambda: f"arn:{p.partition}:kms:{region_account}:{name}",
            "AWS::IAM::Role": lambda: (
                f"arn:{p.partition}:iam::{p.account_id}:role/{name}"
            ),
            "AWS::S3::Bucket": lambda: f"arn:{p.partition}:s3:::{name}",
            "AWS::Serverless::LayerVersion": lambda: (
                f"arn:{p.partition}:lambda:{region_account}:layer:{name}:1"
            ),
            "AWS::Lambda::LayerVersion": lambda: (
                f"arn:{p.partition}:lambda:{region_account}:layer:{name}:1"
            ),
            "AWS::Cognito::UserPool": lambda: (
                f"arn:{p.partition}:cognito-idp:{region_account}"
                f":userpool/{self.ref(logical_id)}"
            ),
            "AWS::Events::Rule": lambda: (
                f"arn:{p.partition}:events:{region_account}:rule/{name}"
            ),
        }
        if kind in arns:
            return arns[kind]()
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
        return f"arn:{p.partition}:{service}:{region_account}:{name}"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind = self._resolver.resource(logical_id).get("Type", "")
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("Name", "QueueName", "TopicName", "KeyId", "Id"):
            return (
                self.ref(logical_id)
                if attribute in ("KeyId", "Id")
                else (self.name(logical_id))
            )
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        if attribute == "StreamArn" and kind == "AWS::DynamoDB::Table":
            return f"{self.arn(logical_id)}/stream/1970-01-01T00:00:00.000"
        if attribute == "RootResourceId":
            return short_id(f"root:{logical_id}", 10)
        if kind == "AWS::Cognito::UserPool" and attribute == "ProviderName":
            pool = self.ref(logical_id)
            p = self._resolver.pseudo
            return f"cognito-idp.{p.region}.{p.url_suffix}/{pool}"
        if kind == "AWS::Cognito::UserPool" and attribute == "ProviderURL":
            return f"https://{self.get_att(logical_id, 'ProviderName')}"
        raise TemplateError(
            f"!GetAtt {logical_id}.{attribute} ({kind}) has no local equivalent"
        )


def _uuid_like(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return (
        f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    )


class Resolver:
    """Resolves intrinsics of one template with fixed parameters."""

    def __init__(
        self,
        template: dict[str, Any],
        parameters: Mapping[str, str] | None = None,
        *,
        pseudo: Pseudo | None = None,
        physical: PhysicalIds | None = None,
    ) -> None:
        self.template = template
        self.pseudo = pseudo or Pseudo()
        self.physical: PhysicalIds = physical or NoPhysicalIds()
        self.names = LocalNames(self)
        self.parameters = self._parameter_values(parameters or {})
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # ------------------------------------------------------------ parameters
    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        declared = self.template.get("Parameters") or {}
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(
                f"parameter(s) {', '.join(sorted(unknown))} are not declared in the "
                f"template (declared: {', '.join(sorted(declared)) or 'none'})"
            )
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            spec = spec or {}
            if name in overrides:
                raw: Any = overrides[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                continue  # required parameter without a value: an error on use
            kind = str(spec.get("Type", "String"))
            if kind.startswith("List<") or kind == "CommaDelimitedList":
                values[name] = (
                    [part.strip() for part in str(raw).split(",")]
                    if not isinstance(raw, list)
                    else [str(item) for item in raw]
                )
            else:
                values[name] = str(raw) if not isinstance(raw, str) else raw
        return values

    # ------------------------------------------------------------ resources
    def resource(self, logical_id: str) -> dict[str, Any]:
        resources = self.template.get("Resources") or {}
        if logical_id not in resources:
            raise TemplateError(f"the template declares no resource {logical_id}")
        resource: dict[str, Any] = resources[logical_id]
        return resource

    def has_resource(self, logical_id: str) -> bool:
        return logical_id in (self.template.get("Resources") or {})

    def is_active(self, logical_id: str) -> bool:
        """False when the resource's `Condition` is false (it would not exist)."""
        condition = self.resource(logical_id).get("Condition")
        return True if condition is None else self.condition(str(condition))

    def condition(self, name: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"the template declares no condition {name}")
        if name in self._evaluating:
            raise TemplateError(f"condition {name} refers to itself")
        self._evaluating.add(name)
        try:
            value = bool(self._boolean(conditions[name]))
        finally:
            self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    def _boolean(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Condition":
                return self.condition(str(argument))
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._boolean(argument[0])
            if key == "Fn::And":
                return all(self._boolean(item) for item in argument)
            if key == "Fn::Or":
                return any(self._boolean(item) for item in argument)
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return resolved
        return str(resolved).lower() == "true"

    # ------------------------------------------------------------ resolution
    def resolve(self, value: Any) -> Any:
        """A deep copy of `value` with every intrinsic replaced by its value."""
        if isinstance(value, dict):
            if is_intrinsic(value):
                (key, argument), *_ = value.items()
                return self._intrinsic(key, argument)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        return value

    def _intrinsic(self, key: str, argument: Any) -> Any:
        handlers: dict[str, Callable[[Any], Any]] = {
            "Ref": lambda a: self.ref(str(self.resolve(a))),
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Equals": self._boolean_intrinsic("Fn::Equals"),
            "Fn::Not": self._boolean_intrinsic("Fn::Not"),
            "Fn::And": self._boolean_intrinsic("Fn::And"),
            "Fn::Or": self._boolean_intrinsic("Fn::Or"),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda a: base64.b64encode(
                str(self.resolve(a)).encode()
            ).decode(),
            "Fn::GetAZs": lambda a: [
                f"{self.resolve(a) or self.pseudo.region}{zone}" for zone in "abc"
            ],
        }
        if key not in handlers:
            raise TemplateError(f"{key} cannot be resolved by the local stack")
        return handlers[key](argument)

    def _boolean_intrinsic(self, key: str) -> Callable[[Any], bool]:
        return lambda argument: self._boolean({key: argument})

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = self.pseudo.values()
        if name in pseudo:
            return pseudo[name]
        if (self.template.get("Parameters") or {}).get(name) is not None:
            raise TemplateError(f"parameter {name} has no default: pass a value")
        if not self.has_resource(name):
            implicit = self._implicit(name, None)
            if implicit is not None:
                return implicit
            raise TemplateError(f"!Ref {name}: no such parameter or resource")
        found = self.physical.ref(name)
        return found if found is not None else self.names.ref(name)

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            logical_id, attribute = (str(self.resolve(part)) for part in argument)
        return self.get_att(logical_id, attribute)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if not self.has_resource(logical_id):
            implicit = self._implicit(logical_id, attribute)
            if implicit is not None:
                return implicit
            raise TemplateError(f"!GetAtt {logical_id}.{attribute}: no such resource")
        found = self.physical.get_att(logical_id, attribute)
        return found if found is not None else self.names.get_att(logical_id, attribute)

    def _implicit(self, logical_id: str, attribute: str | None) -> Any | None:
        """Resources SAM adds: a function's `<Function>Role`, `ServerlessRestApi`."""
        p = self.pseudo
        if logical_id.endswith("Role") and self.has_resource(logical_id[:-4]):
            name = f"{p.stack_name}-{logical_id}"
            if attribute == "Arn":
                return f"arn:{p.partition}:iam::{p.account_id}:role/{name}"
            return name
        if logical_id == "ServerlessRestApi":
            return short_id(f"api:{p.stack_name}:{logical_id}")
        return None

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            pattern, variables = argument[0], argument[1] if len(argument) > 1 else {}
        else:
            pattern, variables = argument, {}
        local = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                value = local[name]
            elif "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                value = self.get_att(logical_id, attribute)
            else:
                value = self.ref(name)
            if isinstance(value, list):
                return ",".join(str(item) for item in value)
            return str(value)

        return _SUB_VARIABLE.sub(replace, str(pattern))

    def _select(self, argument: Any) -> Any:
        index, items = self.resolve(argument[0]), self.resolve(argument[1])
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Select needs a list, got {items!r}")
        position = int(index)
        if not 0 <= position < len(items):
            raise TemplateError(f"Fn::Select index {position} is out of range")
        return items[position]

    def _split(self, argument: Any) -> list[str]:
        delimiter, source = argument[0], self.resolve(argument[1])
        return str(source).split(str(delimiter))

    def _join(self, argument: Any) -> str:
        delimiter, items = argument[0], self.resolve(argument[1])
        return str(delimiter).join(str(item) for item in items)

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        chosen = when_true if self.condition(str(name)) else when_false
        return self.resolve(chosen)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top, second = (str(self.resolve(part)) for part in argument[:3])
        mappings = self.template.get("Mappings") or {}
        try:
            return self.resolve(mappings[map_name][top][second])
        except KeyError as missing:
            raise TemplateError(
                f"Fn::FindInMap {map_name}/{top}/{second}: {missing} is missing"
            ) from None
