"""`python -m local.ebay_emulator --port 8765`: the emulator on its own."""

from __future__ import annotations

import argparse
import signal
import threading

from local.ebay_emulator.oauth import OAuthApp
from local.ebay_emulator.server import EmulatorServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = OAuthApp()
    parser = argparse.ArgumentParser(description="Local emulator of eBay's APIs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--ru-name", default=defaults.ru_name)
    parser.add_argument("--accept-url", default=defaults.accept_url)
    parser.add_argument("--reject-url", default=defaults.reject_url)
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    app = OAuthApp(
        client_id=args.client_id,
        client_secret=args.client_secret,
        ru_name=args.ru_name,
        accept_url=args.accept_url,
        reject_url=args.reject_url,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with EmulatorServer(
        args.port, host=args.host, app=app, log_level=args.log_level
    ) as server:
        print(f"eBay emulator listening on {server.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
