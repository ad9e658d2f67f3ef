"""Create the template's resources in the embedded AWS, and name them for the resolver.

Tables come from `local.template.tables.create_tables`. Queues, KMS keys and aliases,
Secrets Manager secrets, SNS topics, schedule groups and schedules (including
`ScheduleV2` events of functions) are created from their template properties. A
resource is created the first time anything refers to it, so `!GetAtt Dlq.Arn` in a
queue's `RedrivePolicy` creates the dead-letter queue first. Resources that already
exist (restored by `--persist`) are found again and kept, so `!Ref Key` keeps naming
the key that encrypted yesterday's data.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from local.stack.aws import AwsClients
from local.template.intrinsics import Resolver, TemplateError
from local.template.loader import resources_of_type
from local.template.tables import create_tables, table_definitions

LOGICAL_ID_TAG = "local-stack:logical-id"

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "RedrivePolicy",
    "RedriveAllowPolicy",
)


class ProvisionError(RuntimeError):
    pass


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _aws_error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class Provisioner:
    """Creates resources on demand and answers `Ref`/`GetAtt` with their real ids."""

    CREATORS = (
        "AWS::SQS::Queue",
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::SecretsManager::Secret",
        "AWS::SNS::Topic",
        "AWS::Scheduler::ScheduleGroup",
        "AWS::Scheduler::Schedule",
    )

    def __init__(
        self,
        clients: AwsClients,
        template: dict[str, Any],
        secret_values: dict[str, str] | None = None,
    ) -> None:
        self.clients = clients
        self.template = template
        self.secret_values = dict(secret_values or {})
        self.resolver: Resolver | None = None
        self._ids: dict[str, dict[str, Any]] = {}
        self._creating: list[str] = []
        self.created: dict[str, list[str]] = {}
        self.found: dict[str, list[str]] = {}
        self.schedules: set[tuple[str, str]] = set()  # (group, name) from the template

    # ------------------------------------------------------------ PhysicalIds
    def ref(self, logical_id: str) -> Any | None:
        ids = self._ensure(logical_id)
        return ids.get("Ref") if ids else None

    def get_att(self, logical_id: str, attribute: str) -> Any | None:
        ids = self._ensure(logical_id)
        return ids.get(attribute) if ids else None

    # ------------------------------------------------------------ creation
    def _ensure(self, logical_id: str) -> dict[str, Any] | None:
        if logical_id in self._ids:
            return self._ids[logical_id]
        resource = (self.template.get("Resources") or {}).get(logical_id)
        if resource is None or resource.get("Type") not in self.CREATORS:
            return None
        if self.resolver is None:
            return None
        if logical_id in self._creating:
            cycle = " -> ".join([*self._creating, logical_id])
            raise TemplateError(f"resources refer to each other in a cycle: {cycle}")
        if not self.resolver.is_active(logical_id):
            return None
        self._creating.append(logical_id)
        try:
            creators: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
                "AWS::SQS::Queue": self._queue,
                "AWS::KMS::Key": self._key,
                "AWS::KMS::Alias": self._alias,
                "AWS::SecretsManager::Secret": self._secret,
                "AWS::SNS::Topic": self._topic,
                "AWS::Scheduler::ScheduleGroup": self._schedule_group,
                "AWS::Scheduler::Schedule": self._schedule,
            }
            properties = self.resolver.resolve(resource.get("Properties") or {})
            try:
                ids = creators[resource["Type"]](logical_id, properties)
            except ClientError as error:
                raise ProvisionError(
                    f"{logical_id} ({resource['Type']}): {error}"
                ) from None
        finally:
            self._creating.pop()
        self._ids[logical_id] = ids
        return ids

    def _record(self, kind: str, logical_id: str, created: bool) -> None:
        target = self.created if created else self.found
        target.setdefault(kind, []).append(logical_id)

    def provision(self, resolver: Resolver) -> dict[str, str]:
        """Create every table and supported resource; tables: logical id → name."""
        self.resolver = resolver
        dynamodb = self.clients.client("dynamodb")
        existing = set(dynamodb.list_tables().get("TableNames", []))
        tables = create_tables(dynamodb, self.template, stage="", resolver=resolver)
        for logical_id, name in tables.items():
            self._record("table", logical_id, name not in existing)
        for kind in self.CREATORS:
            for logical_id in resources_of_type(self.template, kind):
                self._ensure(logical_id)
        return tables

    def table_drift(self, resolver: Resolver) -> list[str]:
        """Tables whose keys or indexes differ from the template (after a restore)."""
        dynamodb = self.clients.client("dynamodb")
        drifted = []
        for logical_id, wanted in table_definitions(
            self.template, "", resolver
        ).items():
            try:
                actual = dynamodb.describe_table(TableName=wanted["TableName"])["Table"]
            except ClientError:
                continue
            if _table_shape(wanted) != _table_shape(actual):
                drifted.append(logical_id)
        return drifted

    def rebuild_table(self, resolver: Resolver, logical_id: str) -> tuple[int, int]:
        """Recreate a drifted table from the template, keeping the items that fit."""
        dynamodb = self.clients.client("dynamodb")
        wanted = table_definitions(self.template, "", resolver)[logical_id]
        name = wanted["TableName"]
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            items.extend(page.get("Items", []))
        dynamodb.delete_table(TableName=name)
        dynamodb.create_table(**wanted)
        kept = 0
        for item in items:
            try:
                dynamodb.put_item(TableName=name, Item=item)
                kept += 1
            except ClientError:
                continue
        return kept, len(items) - kept

    # ------------------------------------------------------------ per type
    def _queue(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        assert self.resolver is not None
        sqs = self.clients.client("sqs")
        name = self.resolver.names.name(logical_id)
        attributes = {
            key: _attribute(properties[key])
            for key in _QUEUE_ATTRIBUTES
            if key in properties
        }
        tags = {tag["Key"]: str(tag["Value"]) for tag in properties.get("Tags") or []}
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            created = False
        except ClientError:
            url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=tags)[
                "QueueUrl"
            ]
            created = True
        self._record("queue", logical_id, created)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _find_key(self, logical_id: str) -> str | None:
        kms = self.clients.client("kms")
        for page in kms.get_paginator("list_keys").paginate():
            for key in page.get("Keys", []):
                try:
                    tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
                except ClientError:
                    continue
                for tag in tags:
                    if (
                        tag["TagKey"] == LOGICAL_ID_TAG
                        and tag["TagValue"] == logical_id
                    ):
                        return str(key["KeyId"])
        return None

    def _key(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        kms = self.clients.client("kms")
        key_id = self._find_key(logical_id)
        if key_id is None:
            arguments: dict[str, Any] = {
                "Description": str(properties.get("Description", "")),
                "KeyUsage": str(properties.get("KeyUsage", "ENCRYPT_DECRYPT")),
                "KeySpec": str(properties.get("KeySpec", "SYMMETRIC_DEFAULT")),
                "Tags": [
                    {"TagKey": LOGICAL_ID_TAG, "TagValue": logical_id},
                    *(
                        {"TagKey": tag["Key"], "TagValue": str(tag["Value"])}
                        for tag in properties.get("Tags") or []
                    ),
                ],
            }
            if "KeyPolicy" in properties:
                policy = properties["KeyPolicy"]
                arguments["Policy"] = (
                    policy if isinstance(policy, str) else json.dumps(policy)
                )
            if str(properties.get("MultiRegion", "false")).lower() == "true":
                arguments["MultiRegion"] = True
            key_id = str(kms.create_key(**arguments)["KeyMetadata"]["KeyId"])
            if str(properties.get("EnableKeyRotation", "false")).lower() == "true":
                kms.enable_key_rotation(KeyId=key_id)
            self._record("KMS key", logical_id, True)
        else:
            self._record("KMS key", logical_id, False)
        arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
        return {"Ref": key_id, "KeyId": key_id, "Arn": arn}

    def _alias(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        kms = self.clients.client("kms")
        name = str(properties["AliasName"])
        target = str(properties["TargetKeyId"])
        existing = {
            alias["AliasName"]: alias.get("TargetKeyId")
            for page in kms.get_paginator("list_aliases").paginate()
            for alias in page.get("Aliases", [])
        }
        if name in existing:
            if existing[name] not in (target, target.rsplit("/", 1)[-1]):
                kms.update_alias(AliasName=name, TargetKeyId=target)
            self._record("KMS alias", logical_id, False)
        else:
            kms.create_alias(AliasName=name, TargetKeyId=target)
            self._record("KMS alias", logical_id, True)
        arn = (
            f"arn:aws:kms:{self.clients.region}:"
            f"{self.resolver.pseudo.account_id if self.resolver else ''}:{name}"
        )
        return {"Ref": name, "Arn": arn}

    def _secret(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        assert self.resolver is not None
        manager = self.clients.client("secretsmanager")
        name = self.resolver.names.name(logical_id)
        given = self.secret_values.get(logical_id)
        try:
            arn = manager.describe_secret(SecretId=name)["ARN"]
            self._record("secret", logical_id, False)
            if given is not None:
                current = manager.get_secret_value(SecretId=arn).get("SecretString")
                if current != given:
                    manager.put_secret_value(SecretId=arn, SecretString=given)
        except ClientError as error:
            if _aws_error_code(error) != "ResourceNotFoundException":
                raise
            value = given if given is not None else _secret_value(properties)
            arguments: dict[str, Any] = {"Name": name, "SecretString": value}
            for key in ("Description", "KmsKeyId"):
                if key in properties:
                    arguments[key] = str(properties[key])
            if properties.get("Tags"):
                arguments["Tags"] = [
                    {"Key": tag["Key"], "Value": str(tag["Value"])}
                    for tag in properties["Tags"]
                ]
            arn = manager.create_secret(**arguments)["ARN"]
            self._record("secret", logical_id, True)
        return {"Ref": arn, "Id": arn, "Arn": arn}

    def _topic(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        assert self.resolver is not None
        name = self.resolver.names.name(logical_id)
        sns = self.clients.client("sns")
        # CreateTopic answers an existing topic's ARN too: a restart finds it.
        existing = {
            topic["TopicArn"]
            for page in sns.get_paginator("list_topics").paginate()
            for topic in page.get("Topics", [])
        }
        arn = sns.create_topic(Name=name)["TopicArn"]
        self._record("topic", logical_id, arn not in existing)
        return {"Ref": arn, "TopicArn": arn, "TopicName": name}

    def _schedule_group(
        self, logical_id: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        assert self.resolver is not None
        scheduler = self.clients.client("scheduler")
        name = self.resolver.names.name(logical_id)
        try:
            arn = scheduler.get_schedule_group(Name=name)["Arn"]
            self._record("schedule group", logical_id, False)
        except ClientError:
            arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
            self._record("schedule group", logical_id, True)
        return {"Ref": name, "Arn": arn}

    def _schedule(self, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        assert self.resolver is not None
        name = self.resolver.names.name(logical_id)
        arn = self.put_schedule(name, properties)
        self._record("schedule", logical_id, True)
        return {"Ref": name, "Arn": arn}

    def prune_schedules(self, previous: Iterable[Iterable[str]]) -> list[str]:
        """Delete the schedules an earlier template created and this one no longer
        declares (a removed or renamed `ScheduleV2` event), as a stack update would.
        `previous` is the `schedules` of the last run, kept by `--persist`."""
        removed = []
        for group, name in {(str(g), str(n)) for g, n in previous} - self.schedules:
            try:
                self.clients.client("scheduler").delete_schedule(
                    Name=name, GroupName=group
                )
            except ClientError:
                continue  # already gone (deleted by hand, or its group with it)
            removed.append(f"{group}/{name}")
        return sorted(removed)

    def put_schedule(self, name: str, properties: dict[str, Any]) -> str:
        """Create a schedule, or update it to the template's definition."""
        self.schedules.add((str(properties.get("GroupName") or "default"), name))
        scheduler = self.clients.client("scheduler")
        arguments: dict[str, Any] = {
            "Name": name,
            "ScheduleExpression": str(properties["ScheduleExpression"]),
            "FlexibleTimeWindow": properties.get("FlexibleTimeWindow")
            or {"Mode": "OFF"},
            "Target": properties["Target"],
        }
        for key in (
            "GroupName",
            "Description",
            "ScheduleExpressionTimezone",
            "State",
            "KmsKeyArn",
            "StartDate",
            "EndDate",
        ):
            if properties.get(key) is not None:
                arguments[key] = properties[key]
        try:
            return str(scheduler.create_schedule(**arguments)["ScheduleArn"])
        except ClientError as error:
            if _aws_error_code(error) != "ConflictException":
                raise
            return str(scheduler.update_schedule(**arguments)["ScheduleArn"])


def _secret_value(properties: dict[str, Any]) -> str:
    if "SecretString" in properties:
        return str(properties["SecretString"])
    generate = properties.get("GenerateSecretString")
    if not generate:
        return ""
    length = int(generate.get("PasswordLength", 32))
    alphabet = ""
    if str(generate.get("ExcludeLowercase", "false")).lower() != "true":
        alphabet += string.ascii_lowercase
    if str(generate.get("ExcludeUppercase", "false")).lower() != "true":
        alphabet += string.ascii_uppercase
    if str(generate.get("ExcludeNumbers", "false")).lower() != "true":
        alphabet += string.digits
    if str(generate.get("ExcludePunctuation", "false")).lower() != "true":
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    if str(generate.get("IncludeSpace", "false")).lower() == "true":
        alphabet += " "
    excluded = set(str(generate.get("ExcludeCharacters", "")))
    alphabet = "".join(char for char in alphabet if char not in excluded) or "x"
    password = "".join(secrets.choice(alphabet) for _ in range(length))
    template = generate.get("SecretStringTemplate")
    key = generate.get("GenerateStringKey")
    if template and key:
        document = json.loads(str(template))
        document[str(key)] = password
        return json.dumps(document)
    return password


def _table_shape(definition: dict[str, Any]) -> Any:
    """What makes two tables interchangeable: keys, attribute types, indexes."""

    def keys(schema: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
        return tuple((part["AttributeName"], part["KeyType"]) for part in schema)

    def indexes(items: list[dict[str, Any]] | None) -> Any:
        return sorted(
            (
                index["IndexName"],
                keys(index["KeySchema"]),
                index.get("Projection", {}).get("ProjectionType", "ALL"),
                tuple(sorted(index.get("Projection", {}).get("NonKeyAttributes", []))),
            )
            for index in items or []
        )

    key_names = {part["AttributeName"] for part in definition["KeySchema"]}
    for index in [
        *(definition.get("GlobalSecondaryIndexes") or []),
        *(definition.get("LocalSecondaryIndexes") or []),
    ]:
        key_names.update(part["AttributeName"] for part in index["KeySchema"])
    attributes = sorted(
        (a["AttributeName"], a["AttributeType"])
        for a in definition.get("AttributeDefinitions", [])
        if a["AttributeName"] in key_names
    )
    return (
        keys(definition["KeySchema"]),
        attributes,
        indexes(definition.get("GlobalSecondaryIndexes")),
        indexes(definition.get("LocalSecondaryIndexes")),
    )
