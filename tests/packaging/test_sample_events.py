"""Every route the template declares has a sample event, as `sam local invoke` wants.

The handler tests load these files, so a route without one is a route whose tests
cannot start from the shape API Gateway really sends.
"""

from __future__ import annotations

import json

from local.template.loader import load_template, resources_of_type
from tests.support.handlers import EVENTS, ROOT


def test_each_api_route_has_a_sample_event_in_its_functions_folder() -> None:
    template = load_template(ROOT / "template.yaml")
    missing = []
    for resource in resources_of_type(template, "AWS::Serverless::Function").values():
        properties = resource["Properties"]
        folder = EVENTS / str(properties["CodeUri"]).strip("/").split("/")[-1]
        samples = {
            (event["httpMethod"], event["resource"])
            for event in (
                json.loads(path.read_text()) for path in folder.glob("*.json")
            )
            # Events of invoked (not routed) functions have no route.
            if "httpMethod" in event
        }
        for event in (properties.get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            route = (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
            if route not in samples:
                missing.append(f"{folder.name}: {route[0]} {route[1]}")

    assert missing == []
