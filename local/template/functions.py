"""The template's functions as the local stack runs them: Globals merged, resolved.

SAM merges `Globals.Function` into every `AWS::Serverless::Function`: maps merge
(the function's keys win), lists add up (globals first), anything else the function
overrides. Values are then resolved against local names and parameters.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.template.intrinsics import Resolver, TemplateError, is_intrinsic
from local.template.loader import resources_of_type

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
DEFAULT_ASYNC_RETRIES = 2
DEFAULT_ASYNC_EVENT_AGE_S = 21600


def merge_globals(global_value: Any, own_value: Any) -> Any:
    """SAM's Globals merge of one property."""
    if own_value is None:
        return copy.deepcopy(global_value)
    if global_value is None:
        return copy.deepcopy(own_value)
    if (
        isinstance(global_value, dict)
        and isinstance(own_value, dict)
        and not is_intrinsic(global_value)
        and not is_intrinsic(own_value)
    ):
        merged = copy.deepcopy(global_value)
        for key, value in own_value.items():
            merged[key] = merge_globals(merged.get(key), value)
        return merged
    if isinstance(global_value, list) and isinstance(own_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(own_value)
    return copy.deepcopy(own_value)


def merged_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's properties with `Globals.Function` merged in (unresolved)."""
    resource = template["Resources"][logical_id]
    own = resource.get("Properties") or {}
    if resource.get("Type") != SERVERLESS_FUNCTION:
        return copy.deepcopy(own)
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    merged: dict[str, Any] = {}
    for key in set(globals_) | set(own):
        merged[key] = merge_globals(globals_.get(key), own.get(key))
    return merged


@dataclass(frozen=True)
class EventSpec:
    """One entry of a function's `Events`, properties resolved."""

    name: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Destination:
    """Where Lambda sends a failed (or successful) asynchronous invocation."""

    type: str  # SQS, SNS, Lambda, EventBridge
    arn: str


@dataclass(frozen=True)
class FunctionSpec:
    """What the local Lambda needs to run one function."""

    logical_id: str
    name: str
    arn: str
    runtime: str
    handler: str
    code_dir: Path | None
    layer_dirs: tuple[Path, ...]
    memory_mb: int
    timeout_s: int
    environment: dict[str, str]
    events: dict[str, EventSpec] = field(default_factory=dict)
    dead_letter: Destination | None = None
    on_failure: Destination | None = None
    on_success: Destination | None = None
    async_retries: int = DEFAULT_ASYNC_RETRIES
    async_max_event_age_s: int = DEFAULT_ASYNC_EVENT_AGE_S
    problems: tuple[str, ...] = ()

    @property
    def runnable(self) -> bool:
        return not self.problems


def _environment(resolver: Resolver, properties: dict[str, Any]) -> dict[str, str]:
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    resolved = resolver.resolve(variables)
    environment = {}
    for key, value in resolved.items():
        if isinstance(value, bool):
            environment[key] = "true" if value else "false"
        elif isinstance(value, list):
            environment[key] = ",".join(str(item) for item in value)
        else:
            environment[key] = str(value)
    return environment


def _layer_dirs(
    template: dict[str, Any], layers: list[Any], base_dir: Path
) -> tuple[list[Path], list[str]]:
    """Local folders of layers declared in this template (their `ContentUri`)."""
    dirs, problems = [], []
    resources = template.get("Resources") or {}
    for layer in layers:
        logical_id = layer.get("Ref") if isinstance(layer, dict) else None
        resource = resources.get(logical_id) if logical_id else None
        if not resource or not resource.get("Type", "").endswith("LayerVersion"):
            problems.append(f"layer {layer!r} is not in this template")
            continue
        properties = resource.get("Properties") or {}
        content = properties.get("ContentUri") or properties.get("Content")
        if not isinstance(content, str):
            problems.append(f"layer {logical_id} has no local ContentUri")
            continue
        folder = (base_dir / content).resolve()
        build_method = str((resource.get("Metadata") or {}).get("BuildMethod", ""))
        if not build_method.startswith("python") and (folder / "python").is_dir():
            folder = folder / "python"
        dirs.append(folder)
    return dirs, problems


def _destination(resolver: Resolver, config: Any, kind_key: str) -> Destination | None:
    if not config:
        return None
    resolved = resolver.resolve(config)
    arn = resolved.get("TargetArn") or resolved.get("Destination")
    if not arn:
        return None
    return Destination(type=str(resolved.get(kind_key, "SQS")), arn=str(arn))


def function_spec(
    template: dict[str, Any], logical_id: str, resolver: Resolver, base_dir: Path
) -> FunctionSpec:
    """One function, resolved."""
    properties = merged_properties(template, logical_id)
    problems: list[str] = []
    runtime = str(resolver.resolve(properties.get("Runtime", "")))
    if not runtime.startswith("python"):
        problems.append(f"runtime {runtime or '(none)'} is not emulated locally")
    if str(properties.get("PackageType", "Zip")) == "Image":
        problems.append("image functions are not emulated locally")
    code = resolver.resolve(properties.get("CodeUri"))
    code_dir: Path | None = None
    if isinstance(code, str):
        code_dir = (base_dir / code).resolve()
        if not code_dir.is_dir():
            problems.append(f"CodeUri {code} is not a folder under {base_dir}")
    else:
        problems.append("CodeUri is not a local folder")
    layer_dirs, layer_problems = _layer_dirs(
        template, properties.get("Layers") or [], base_dir
    )
    problems.extend(layer_problems)
    events = {
        name: EventSpec(
            name=name,
            type=str(event.get("Type", "")),
            properties=resolver.resolve(event.get("Properties") or {}),
        )
        for name, event in (properties.get("Events") or {}).items()
    }
    invoke_config = properties.get("EventInvokeConfig") or {}
    destinations = invoke_config.get("DestinationConfig") or {}
    retries = invoke_config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES)
    max_age = invoke_config.get("MaximumEventAgeInSeconds", DEFAULT_ASYNC_EVENT_AGE_S)
    return FunctionSpec(
        logical_id=logical_id,
        name=str(resolver.names.name(logical_id)),
        arn=str(resolver.get_att(logical_id, "Arn")),
        runtime=runtime,
        handler=str(resolver.resolve(properties.get("Handler", ""))),
        code_dir=code_dir,
        layer_dirs=tuple(layer_dirs),
        memory_mb=int(
            resolver.resolve(properties.get("MemorySize", DEFAULT_MEMORY_MB))
        ),
        timeout_s=int(resolver.resolve(properties.get("Timeout", DEFAULT_TIMEOUT_S))),
        environment=_environment(resolver, properties),
        events=events,
        dead_letter=_destination(resolver, properties.get("DeadLetterQueue"), "Type"),
        on_failure=_destination(resolver, destinations.get("OnFailure"), "Type"),
        on_success=_destination(resolver, destinations.get("OnSuccess"), "Type"),
        async_retries=int(resolver.resolve(retries)),
        async_max_event_age_s=int(resolver.resolve(max_age)),
        problems=tuple(problems),
    )


def function_specs(
    template: dict[str, Any], resolver: Resolver, base_dir: Path
) -> dict[str, FunctionSpec]:
    """Every active `AWS::Serverless::Function`, by logical id."""
    specs = {}
    for logical_id in resources_of_type(template, SERVERLESS_FUNCTION):
        if not resolver.is_active(logical_id):
            continue
        try:
            specs[logical_id] = function_spec(template, logical_id, resolver, base_dir)
        except TemplateError as error:
            raise TemplateError(f"function {logical_id}: {error}") from None
    return specs
