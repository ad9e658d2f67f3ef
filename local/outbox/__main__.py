"""`python -m local.outbox --port 3300 --token TOKEN`: the outbox on its own."""

from __future__ import annotations

import argparse
import time

from local.outbox.server import OutboxServer


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m local.outbox")
    cli.add_argument("--host", default="127.0.0.1")
    cli.add_argument("--port", type=int, default=3300)
    cli.add_argument("--token", default="local-postmark-server-token")
    arguments = cli.parse_args(argv)
    server = OutboxServer(
        token=arguments.token, port=arguments.port, host=arguments.host
    )
    server.start()
    print(f"Postmark outbox on {server.url} (POSTMARK_API_URL={server.api_url})")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
