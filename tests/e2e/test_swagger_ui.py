"""Swagger UI at the local stack's /docs, in a real (headless) Chromium.

Every operation of the committed docs/openapi.json must render, and one signed-in
call must go through the page's Authorize dialog and "Try it out" to this stack.
Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
NUL-separated JSON on fds 3 and 4), so no Python dependency is needed. The
screenshot is kept in test-artifacts/swagger-ui.png.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from local.stack.docs import SwaggerUi, local_document
from tests.e2e.support import ROOT, RunningStack

pytestmark = pytest.mark.slow

DOCUMENT = ROOT / "docs" / "openapi.json"
ARTIFACT = ROOT / "test-artifacts" / "swagger-ui.png"
CHROMIUM = Path(os.environ.get("SNIPER_CHROMIUM") or "/usr/bin/chromium")
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
WAIT_S = 15
# Without these Chromium waits on the (closed) network and hangs.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


# ---------------------------------------------------------------- Chromium
class Browser:
    """One headless Chromium page over the DevTools protocol on a pipe."""

    def __init__(self, executable: Path, profile: Path, log: Path) -> None:
        # fd 3 is what Chromium reads commands from, fd 4 where it answers.
        self._log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [
                "sh",
                "-c",
                'exec "$0" "$@" 3<&0 4>&1 </dev/null >&2',
                str(executable),
                *FLAGS,
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        page = next(
            t
            for t in self.call("Target.getTargets")["targetInfos"]
            if t["type"] == "page"
        )
        attached = self.call(
            "Target.attachToTarget", targetId=page["targetId"], flatten=True
        )
        self.session = attached["sessionId"]

    def _read(self) -> None:
        assert self.process.stdout is not None
        pipe = self.process.stdout.fileno()
        buffer = b""
        while chunk := os.read(pipe, 65536):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                answer = json.loads(message)
                if "id" in answer:
                    self._answers.put(answer)

    def call(
        self, method: str, session: str | None = None, **params: Any
    ) -> dict[str, Any]:
        assert self.process.stdin is not None
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method}
        command["params"] = params
        if session:
            command["sessionId"] = session
        self.process.stdin.write(json.dumps(command).encode() + b"\0")
        self.process.stdin.flush()
        deadline = time.monotonic() + WAIT_S + 5
        while True:
            try:
                answer = self._answers.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is None and time.monotonic() < deadline:
                    continue
                log = self._log_path.read_text(errors="replace")[-2000:]
                raise AssertionError(
                    f"Chromium did not answer {method}; its log:\n{log}"
                ) from None
            if answer["id"] == self._next_id:
                break
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, self.session, **params)

    def run(self, script: str) -> Any:
        """The value of an async JS function body, run in the page."""
        result = self.page(
            "Runtime.evaluate",
            expression=f"(async () => {{ {script} }})()",
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details["text"]
            raise AssertionError(f"in the page: {text}")
        return result["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self.process.wait(timeout=5)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self._log.close()


# The page-side helpers: poll the DOM until something shows (Swagger UI renders
# asynchronously), click, and type like a user (React reads the input event).
HELPERS = f"""
const until = async (what, find) => {{
  const deadline = Date.now() + {WAIT_S * 1000};
  for (;;) {{
    const found = find();
    if (found) return found;
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }}
}};
const operation = (method, path) => [...document.querySelectorAll(".opblock")].find(
  (b) => b.querySelector(".opblock-summary-method")?.textContent === method
    && b.querySelector("[data-path]")?.dataset.path === path);
const type = (input, text) => {{
  const setter = Object.getOwnPropertyDescriptor(
    HTMLInputElement.prototype, "value").set;
  setter.call(input, text);
  input.dispatchEvent(new Event("input", {{ bubbles: true }}));
}};
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `make browser` (or set "
            "SNIPER_SKIP_BROWSER=1 to skip this test)"
        )
    opened = Browser(CHROMIUM, tmp_path / "profile", tmp_path / "chromium.log")
    yield opened
    opened.close()


@pytest.mark.skipif(
    os.environ.get("SNIPER_SKIP_BROWSER") == "1",
    reason="SNIPER_SKIP_BROWSER=1: the Swagger UI test needs Chromium",
)
def test_every_operation_renders_and_one_runs_with_a_local_token(
    stack: RunningStack, browser: Browser
) -> None:
    document = json.loads(DOCUMENT.read_text())
    page = httpx.get(f"{stack.api}/docs")
    assert page.status_code == 200, page.text
    token = stack.token("swagger")
    browser.page(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=1000,
        deviceScaleFactor=1,
        mobile=False,
    )

    browser.page("Page.navigate", url=f"{stack.api}/docs")
    rendered = browser.run(
        HELPERS
        + f"""
        await until("the operations", () =>
          document.querySelectorAll(".opblock").length >= {len(operations(document))});
        return [...document.querySelectorAll(".opblock")].map((b) => [
          b.querySelector(".opblock-summary-method").textContent,
          b.querySelector("[data-path]").dataset.path]);
        """
    )
    assert {tuple(item) for item in rendered} == operations(document)

    answer = browser.run(
        HELPERS
        + f"""
        document.querySelector(".auth-wrapper .authorize").click();
        const input = await until("the token field", () =>
          document.querySelector(".modal-ux input"));
        type(input, {json.dumps(token)});
        await new Promise((resolve) => setTimeout(resolve, 0));
        document.querySelector(".modal-ux .auth-btn-wrapper .authorize").click();
        await until("the authorized dialog", () => [
          ...document.querySelectorAll(".modal-ux h6")].some(
            (h) => h.textContent === "Authorized"));
        document.querySelector(".modal-ux .btn-done").click();

        const block = operation("GET", "/users/profile");
        block.querySelector(".opblock-summary-control").click();
        (await until("Try it out", () => block.querySelector(".try-out__btn"))).click();
        (await until("Execute", () => block.querySelector(".execute"))).click();
        const status = await until("the response", () =>
          block.querySelector(".live-responses-table tbody .response-col_status"));
        return {{
          status: status.textContent.trim(),
          body: block.querySelector(".live-responses-table .microlight").textContent,
          url: block.querySelector(".request-url pre").textContent,
          curl: block.querySelector(".curl-command").textContent,
          servers: [...document.querySelectorAll(".servers option")].map(
            (o) => o.value),
        }};
        """
    )
    assert f"Authorization: {token}" in answer["curl"], answer
    assert answer["status"] == "200", answer
    sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    assert json.loads(answer["body"])["userId"] == sub
    assert answer["url"] == f"{stack.api}/users/profile"
    assert answer["servers"] == [stack.api]

    height = browser.run("return document.documentElement.scrollHeight;")
    browser.page(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=min(int(height), 12000),
        deviceScaleFactor=1,
        mobile=False,
    )
    shot = browser.page("Page.captureScreenshot", format="png")
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_bytes(base64.b64decode(shot["data"]))
    print(f"Swagger UI screenshot: {ARTIFACT}")


# ---------------------------------------------------------------- without a browser
def test_the_served_document_names_this_stack_and_how_to_get_a_token(
    stack: RunningStack,
) -> None:
    served = httpx.get(f"{stack.api}/docs/openapi.json").json()
    committed = json.loads(DOCUMENT.read_text())

    assert served["servers"] == [{"url": stack.api, "description": "this local stack"}]
    assert served["paths"] == committed["paths"]
    assert "make token" in served["info"]["description"]
    assert f"{stack.api}/local/token" in served["info"]["description"]


def test_missing_assets_or_document_answer_503_with_the_fix(tmp_path: Path) -> None:
    app = SwaggerUi(document=tmp_path / "openapi.json", assets=tmp_path / "none")

    async def get(*paths: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return [await c.get(path) for path in paths]

    page, asset, document = asyncio.run(
        get("/docs", "/docs/swagger-ui-bundle.js", "/docs/openapi.json")
    )
    assert page.status_code == 503
    assert "make docs-ui" in page.text
    assert "make openapi" in page.text
    assert asset.status_code == 503
    assert document.status_code == 503
    assert "make openapi" in document.json()["message"]


def test_only_the_pages_assets_are_served(stack: RunningStack) -> None:
    assert httpx.get(f"{stack.api}/docs/swagger-ui-bundle.js").status_code == 200
    assert httpx.get(f"{stack.api}/docs/package.json").status_code == 404
    assert httpx.get(f"{stack.api}/docs/..%2F..%2Fpackage.json").status_code == 404


def test_local_document_keeps_everything_but_servers_and_adds_a_note() -> None:
    document = {"openapi": "3.1.0", "info": {"title": "t"}, "paths": {}}

    served = local_document(document, "http://127.0.0.1:3005")

    assert served["servers"] == [
        {"url": "http://127.0.0.1:3005", "description": "this local stack"}
    ]
    assert served["info"]["title"] == "t"
    assert "POST http://127.0.0.1:3005/local/token" in served["info"]["description"]
    assert document == {"openapi": "3.1.0", "info": {"title": "t"}, "paths": {}}
