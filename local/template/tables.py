"""Create the DynamoDB tables a template declares, against any DynamoDB endpoint.

Tests (moto) and the local stack both call this, so neither repeats a table
definition: change `template.yaml` and both follow.
"""

from __future__ import annotations

from typing import Any

from local.template.intrinsics import Resolver
from local.template.loader import resources_of_type

_CREATE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
)


def table_name(logical_id: str, stage: str) -> str:
    """The physical name the stack gives a table (`TableName: !Sub ...-${Stage}`)."""
    return f"{logical_id}-{stage}"


def resolve_table_name(logical_id: str, properties: dict[str, Any], stage: str) -> str:
    declared = properties.get("TableName")
    if isinstance(declared, dict) and "Fn::Sub" in declared:
        pattern = declared["Fn::Sub"]
        if isinstance(pattern, str):
            return pattern.replace("${Stage}", stage)
    if isinstance(declared, str):
        return declared
    return table_name(logical_id, stage)


def table_definitions(
    template: dict[str, Any], stage: str, resolver: Resolver | None = None
) -> dict[str, Any]:
    """`create_table` arguments per logical id, straight from the template.

    With a `resolver` (the local stack's), names and properties are resolved with
    every intrinsic and the resolver's parameters; without, `${Stage}` is `stage`.
    """
    definitions = {}
    for logical_id, resource in resources_of_type(
        template, "AWS::DynamoDB::Table"
    ).items():
        properties = resource["Properties"]
        if resolver is not None:
            if not resolver.is_active(logical_id):
                continue
            properties = resolver.resolve(properties)
        arguments = {key: properties[key] for key in _CREATE_KEYS if key in properties}
        if resolver is not None:
            arguments["TableName"] = str(resolver.ref(logical_id))
        else:
            arguments["TableName"] = resolve_table_name(logical_id, properties, stage)
        definitions[logical_id] = arguments
    return definitions


def create_tables(
    dynamodb_client: Any,
    template: dict[str, Any],
    stage: str,
    resolver: Resolver | None = None,
) -> dict[str, str]:
    """Create every table (skipping those that exist); logical id → physical name."""
    existing = set(_all_table_names(dynamodb_client))
    names = {}
    for logical_id, arguments in table_definitions(template, stage, resolver).items():
        names[logical_id] = arguments["TableName"]
        if arguments["TableName"] not in existing:
            dynamodb_client.create_table(**arguments)
    return names


def _all_table_names(dynamodb_client: Any) -> list[str]:
    names: list[str] = []
    for page in dynamodb_client.get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    return names
