"""`python -m local.stack.token --username alice`: a token from the running stack.

It asks the stack's `POST /local/token` (the key lives in the stack process, or in
its `--persist` folder), so the stack must be running. Prints the ID token alone,
for `TOKEN=$(make -s token USER=alice)`; `--json` prints the whole answer.
"""

from __future__ import annotations

import argparse
import json
import sys

import httpx

from local.stack.config import DEFAULT_API_PORT


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m local.stack.token", description="Print a local sign-in token."
    )
    cli.add_argument("--api-url", default=f"http://127.0.0.1:{DEFAULT_API_PORT}")
    cli.add_argument("--username", "--user", default="alice")
    cli.add_argument("--email", help="default: USERNAME@example.com")
    cli.add_argument("--expires-in", type=int, default=3600, metavar="SECONDS")
    cli.add_argument("--groups", default="", help="comma-separated cognito:groups")
    cli.add_argument(
        "--email-verified",
        choices=("true", "false"),
        default="true",
        help="the email_verified claim (false: an address Cognito has not verified)",
    )
    cli.add_argument("--json", action="store_true", help="print the whole answer")
    return cli


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    body: dict[str, object] = {
        "username": arguments.username,
        "email": arguments.email or f"{arguments.username}@example.com",
        "expiresIn": arguments.expires_in,
        "emailVerified": arguments.email_verified == "true",
    }
    if arguments.groups:
        body["groups"] = [g.strip() for g in arguments.groups.split(",") if g.strip()]
    url = arguments.api_url.rstrip("/") + "/local/token"
    try:
        response = httpx.post(url, json=body, timeout=10)
    except httpx.HTTPError as error:
        print(
            f"no local stack answers at {arguments.api_url} ({error}); start it with "
            "`make dev` (or pass --api-url)",
            file=sys.stderr,
        )
        return 1
    if response.status_code != 200:
        print(
            f"{url} answered {response.status_code}: {response.text}", file=sys.stderr
        )
        return 1
    answer = response.json()
    print(json.dumps(answer, indent=2) if arguments.json else answer["idToken"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
