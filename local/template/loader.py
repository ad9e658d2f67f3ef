"""Load a SAM template, keeping CloudFormation's short-form intrinsics as data.

`!Ref X` becomes `{"Ref": "X"}` and `!GetAtt A.B` becomes `{"Fn::GetAtt": ["A", "B"]}`,
exactly the long form CloudFormation itself accepts, so later code handles one shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_SHORT_FORMS = (
    "Ref",
    "Condition",
    "Fn::And",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::Equals",
    "Fn::FindInMap",
    "Fn::GetAZs",
    "Fn::If",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Not",
    "Fn::Or",
    "Fn::Select",
    "Fn::Split",
    "Fn::Sub",
    "Fn::Transform",
)


class TemplateLoader(yaml.SafeLoader):
    """A safe YAML loader that understands CloudFormation tags."""


def _construct(full_name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {full_name: value}

    return construct


def _construct_get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        resource, _, attribute = str(loader.construct_scalar(node)).partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {"Fn::GetAtt": loader.construct_sequence(node)}  # type: ignore[arg-type]


for _name in _SHORT_FORMS:
    _tag = "!" + _name.removeprefix("Fn::")
    TemplateLoader.add_constructor(_tag, _construct(_name))
TemplateLoader.add_constructor("!GetAtt", _construct_get_att)


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain data, intrinsics in their long form."""
    with path.open(encoding="utf-8") as stream:
        try:
            document = yaml.load(stream, Loader=TemplateLoader)  # noqa: S506
        except yaml.YAMLError as error:  # a typo while editing the template
            raise ValueError(f"not valid YAML: {error}") from None
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    """Resources of one type, by logical id."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == kind
    }
