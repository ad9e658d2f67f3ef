"""Create the DynamoDB tables a template declares, against any DynamoDB endpoint.

Tests (moto) and the local stack both call this, so neither repeats a table
definition: change `template.yaml` and both follow.
"""

from __future__ import annotations

from typing import Any

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


def table_definitions(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """`create_table` arguments per logical id, straight from the template."""
    definitions = {}
    for logical_id, resource in resources_of_type(
        template, "AWS::DynamoDB::Table"
    ).items():
        properties = resource["Properties"]
        arguments = {key: properties[key] for key in _CREATE_KEYS if key in properties}
        arguments["TableName"] = resolve_table_name(logical_id, properties, stage)
        definitions[logical_id] = arguments
    return definitions


def create_tables(
    dynamodb_client: Any, template: dict[str, Any], stage: str
) -> dict[str, str]:
    """Create every table (skipping those that exist); logical id → physical name."""
    existing = set(dynamodb_client.list_tables().get("TableNames", []))
    names = {}
    for logical_id, arguments in table_definitions(template, stage).items():
        names[logical_id] = arguments["TableName"]
        if arguments["TableName"] not in existing:
            dynamodb_client.create_table(**arguments)
    return names
