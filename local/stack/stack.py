"""The local stack: every part started in order, and stopped cleanly.

`prepare()` does the synchronous work with a progress line per step (ports, state,
the embedded AWS, the template's resources, identity, functions and routes); `run()`
serves the API and the Lambda endpoint with uvicorn until SIGINT or SIGTERM, with the
schedule runner and the state saver beside them, then stops everything in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from botocore.exceptions import ClientError

from local.stack.aws import AwsClients, AwsEmulator
from local.stack.config import (
    StackConfig,
    container_environment,
    postmark_secret_value,
    wire_ebay_emulator,
    wire_outbox,
)
from local.stack.console import Console
from local.stack.containers import ContainerPool
from local.stack.gateway import Gateway
from local.stack.identity import LocalIdentity, load_or_create_key
from local.stack.lambda_api import create_lambda_app
from local.stack.lambda_service import LocalLambda
from local.stack.persistence import PeriodicSaver, Snapshots
from local.stack.provision import Provisioner, ProvisionError
from local.stack.routing import PathTemplateError
from local.stack.scheduler import (
    DeliveryChaos,
    Schedule,
    ScheduleRunner,
    template_rules,
)
from local.template.apis import ApiRoute, api_routes, rest_apis
from local.template.functions import FunctionSpec, function_specs
from local.template.intrinsics import Pseudo, Resolver, TemplateError
from local.template.loader import load_template, resources_of_type

IDENTITY_KEY_FILE = "identity-key.pem"


class StartupError(Exception):
    """The stack cannot start; the message says why and what to do."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the stack handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _StackIds:
    """Physical ids: the emulator's resources, plus the local identity's ids."""

    def __init__(
        self,
        template: dict[str, Any],
        provisioner: Provisioner,
        identity: LocalIdentity,
    ) -> None:
        self._resources = template.get("Resources") or {}
        self._provisioner = provisioner
        self._identity = identity

    def _kind(self, logical_id: str) -> str:
        return str((self._resources.get(logical_id) or {}).get("Type", ""))

    def ref(self, logical_id: str) -> Any | None:
        if self._kind(logical_id) == "AWS::Cognito::UserPoolClient":
            return self._identity.client_id
        return self._provisioner.ref(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> Any | None:
        if self._kind(logical_id) == "AWS::Cognito::UserPool":
            if attribute == "ProviderURL":
                return self._identity.issuer
            if attribute == "ProviderName":
                return self._identity.issuer.split("://", 1)[-1]
        return self._provisioner.get_att(logical_id, attribute)


def bind(host: str, port: int, purpose: str, option: str) -> socket.socket:
    """A listening-ready socket, or a `StartupError` naming the busy port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use, and the {purpose} needs it. "
                f"Stop whatever listens there (`lsof -i :{port}`) or choose another "
                f"port with {option}."
            ) from None
        raise StartupError(
            f"cannot listen on {host}:{port} for the {purpose}: {error}"
        ) from None
    return sock


class LocalStack:
    def __init__(self, config: StackConfig, console: Console) -> None:
        self.config = config
        self.console = console
        self.template: dict[str, Any] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self.routes: list[ApiRoute] = []
        self.aws: AwsEmulator | None = None
        self.clients: AwsClients | None = None
        self.identity: LocalIdentity | None = None
        self.snapshots: Snapshots | None = None
        self._extras: dict[str, Any] = {}
        self._template_schedules: list[tuple[str, str]] = []
        self._sockets: dict[str, socket.socket] = {}
        self._executor = ThreadPoolExecutor(64, thread_name_prefix="invoke")
        self._pool: ContainerPool | None = None
        self.lambdas: LocalLambda | None = None
        self.runner: ScheduleRunner | None = None
        self._saver: PeriodicSaver | None = None
        self._ebay: Any = None
        self._outbox: Any = None
        self._servers: list[_Server] = []
        self.rules: list[Schedule] = []
        self.gateway: Gateway | None = None

    # ------------------------------------------------------------ preparing
    def prepare(self) -> None:
        try:
            self._prepare()
        except BaseException:
            self._release_resources()
            raise

    def _prepare(self) -> None:
        config = self.config
        started = time.perf_counter()
        try:
            self.template = load_template(config.template)
        except (OSError, ValueError) as error:
            raise StartupError(f"cannot read {config.template}: {error}") from None
        self.console.step(f"template {config.template}")
        self._sockets["api"] = bind(
            config.host, config.api_port, "API", "--api-port (make dev API_PORT=...)"
        )
        self._sockets["lambda"] = bind(
            config.host, config.lambda_port, "local Lambda endpoint", "--lambda-port"
        )
        bind(config.host, config.aws_port, "embedded AWS (moto)", "--aws-port").close()
        if config.ebay_port:
            bind(config.host, config.ebay_port, "eBay emulator", "--ebay-port").close()
        if config.outbox_port:
            bind(
                config.host,
                config.outbox_port,
                "Postmark outbox",
                "--outbox-port (make dev OUTBOX_PORT=...)",
            ).close()
        self.console.step("ports are free")

        if config.persist is not None:
            self.snapshots = Snapshots(config.persist, self.console)
            self._extras = self.snapshots.restore()
            state = "restored" if self.snapshots.path.exists() else "none yet"
            self.console.step(f"state in {config.persist} ({state})")

        if config.ebay_port is not None:
            self._start_ebay()
        if config.outbox_port is not None:
            self._start_outbox()

        self.aws = AwsEmulator(config.host, config.aws_port)
        self.aws.start()
        self.clients = AwsClients(self.aws.url, config.region)
        self.console.step(f"embedded AWS (moto) on {self.aws.url}")

        api_port = self._sockets["api"].getsockname()[1]
        issuer = config.issuer or f"http://{config.public_host}:{api_port}/local"
        key_path = config.persist / IDENTITY_KEY_FILE if config.persist else None
        try:
            key, created = load_or_create_key(key_path)
        except (OSError, ValueError) as error:
            raise StartupError(
                f"cannot use the identity key {key_path}: {error}. Delete it to "
                "generate a new one (tokens issued with it stop working)."
            ) from None
        self.identity = LocalIdentity(key, issuer, config.client_id)
        self.identity.import_users(self._extras.get("identity", {}))
        # Cognito's AdminDeleteUser reaches the local identity through the AWS
        # endpoint, as account deletion calls it on AWS.
        self.aws.cognito_users = self.identity
        self.console.step(
            f"identity key {'generated' if created else 'loaded'} (issuer {issuer})"
        )

        provisioner = Provisioner(self.clients, self.template, config.secrets)
        pseudo = Pseudo(
            region=config.region,
            account_id=config.account_id,
            stack_name=config.stack_name,
        )
        try:
            resolver = Resolver(
                self.template,
                config.parameters,
                pseudo=pseudo,
                physical=_StackIds(self.template, provisioner, self.identity),
            )
            tables = provisioner.provision(resolver)
            for logical_id in provisioner.table_drift(resolver):
                kept, dropped = provisioner.rebuild_table(resolver, logical_id)
                self.console.warn(
                    f"table {tables[logical_id]} differed from the template: rebuilt, "
                    f"{kept} item(s) kept, {dropped} dropped"
                )
            self.console.step("resources: " + self._describe_resources(provisioner))
            self.functions = function_specs(self.template, resolver, config.base_dir)
            self.routes = api_routes(self.template, resolver)
            apis = list(rest_apis(self.template, resolver).values())
            self._create_schedule_events(provisioner)
            for removed in provisioner.prune_schedules(
                self._extras.get("template_schedules", [])
            ):
                self.console.step(
                    f"schedule {removed} removed: no longer in the template"
                )
            self._template_schedules = sorted(provisioner.schedules)
            self.rules = template_rules(
                self.functions,
                self._event_rules(resolver),
                region=config.region,
                account_id=config.account_id,
                rate_seconds=config.rule_rate,
            )
        except (TemplateError, ProvisionError, ClientError, ValueError) as error:
            raise StartupError(f"{config.template}: {error}") from None
        longest = max((len(logical_id) for logical_id in self.functions), default=0)
        self.console.width = max(self.console.width, longest + 3)
        for spec in self.functions.values():
            if not spec.runnable:
                self.console.warn(
                    f"{spec.logical_id} cannot run locally: {'; '.join(spec.problems)}"
                )
        self.console.step(
            f"{len(self.functions)} function(s), {len(self.routes)} route(s), "
            f"{len(self.rules)} schedule rule(s)"
        )
        lambda_port = self._sockets["lambda"].getsockname()[1]
        lambda_url = f"http://{config.public_host}:{lambda_port}"
        aws_url = self.aws.url
        self._pool = ContainerPool(
            lambda spec: container_environment(
                spec, config=config, aws_url=aws_url, lambda_url=lambda_url
            ),
            self.console,
            max_per_function=config.max_containers,
        )
        self.lambdas = LocalLambda(
            self.functions,
            self._pool,
            self.console,
            region=config.region,
            account_id=config.account_id,
            clients=self.clients,
            retry_delays=config.async_retry_delays,
            # One thread per asynchronous event in flight (threads start only when
            # needed): fewer would cap every function below --max-containers, so
            # N one-time schedules firing at once could not run N executors at once.
            async_workers=max(16, config.max_containers * len(self.functions)),
        )
        try:
            self.gateway = Gateway(
                self.routes,
                self.lambdas,
                self.identity,
                self.console,
                self._executor,
                account_id=config.account_id,
                apis=apis,
            )
        except PathTemplateError as error:
            raise StartupError(f"{config.template}: {error}") from None
        self.runner = ScheduleRunner(
            self.lambdas,
            self.console,
            clients=self.clients,
            rules=self.rules,
            poll_interval=config.schedule_poll_interval,
            retry_delay=config.schedule_retry_delay,
            executor=self._executor,
            region=config.region,
            account_id=config.account_id,
            chaos=DeliveryChaos(
                delay=config.schedule_delay,
                duplicates=config.schedule_duplicates,
                seed=config.schedule_seed,
            ),
        )
        self.runner.import_state(self._extras.get("scheduler", {}))
        self.console.step(f"prepared in {time.perf_counter() - started:.1f}s")

    def _describe_resources(self, provisioner: Provisioner) -> str:
        def count(kinds: dict[str, list[str]]) -> str:
            parts = []
            for kind, ids in sorted(kinds.items()):
                plural = (
                    kind if len(ids) == 1 else kind + ("es" if kind[-1] == "s" else "s")
                )
                parts.append(f"{len(ids)} {plural}")
            return ", ".join(parts)

        created, kept = count(provisioner.created), count(provisioner.found)
        if created and kept:
            return f"created {created}; kept {kept}"
        return f"created {created}" if created else f"kept {kept}" if kept else "none"

    def _create_schedule_events(self, provisioner: Provisioner) -> None:
        """`ScheduleV2` events become schedules in the embedded Scheduler."""
        for spec in self.functions.values():
            for event in spec.events.values():
                if event.type != "ScheduleV2":
                    continue
                properties = dict(event.properties)
                target: dict[str, Any] = {
                    "Arn": spec.arn,
                    "RoleArn": properties.get("RoleArn")
                    or f"arn:aws:iam::{self.config.account_id}:role/local-scheduler",
                }
                for key in ("Input", "RetryPolicy"):
                    if properties.get(key) is not None:
                        target[key] = properties[key]
                dead_letter = properties.get("DeadLetterConfig") or {}
                if dead_letter.get("Arn"):
                    target["DeadLetterConfig"] = {"Arn": dead_letter["Arn"]}
                properties["Target"] = target
                name = str(properties.get("Name") or f"{spec.logical_id}{event.name}")
                provisioner.put_schedule(name, properties)

    def _event_rules(self, resolver: Resolver) -> list[dict[str, Any]]:
        rules = []
        for logical_id, resource in resources_of_type(
            self.template, "AWS::Events::Rule"
        ).items():
            properties = resource.get("Properties") or {}
            if "ScheduleExpression" not in properties or not resolver.is_active(
                logical_id
            ):
                continue
            resolved = resolver.resolve(properties)
            resolved["__logical_id__"] = logical_id
            rules.append(resolved)
        return rules

    # ------------------------------------------------------------ running
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        signals_seen: list[int] = []

        def on_signal(number: int) -> None:
            signals_seen.append(number)
            if len(signals_seen) > 1:
                for server in self._servers:
                    server.force_exit = True
            stop.set()

        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, on_signal, number)
        tasks: list[asyncio.Task[None]] = []
        try:
            assert self.lambdas is not None and self.identity is not None
            lambda_app = create_lambda_app(self.lambdas, self.console, self._executor)
            assert self.gateway is not None
            apps: list[tuple[str, Any]] = [
                ("lambda", lambda_app),
                ("api", self.gateway),
            ]
            for name, app in apps:
                server = _Server(
                    uvicorn.Config(
                        app,
                        lifespan="off",
                        http="h11",
                        log_level="warning",
                        access_log=False,
                        server_header=False,
                        timeout_graceful_shutdown=2,
                    )
                )
                self._servers.append(server)
                tasks.append(
                    asyncio.create_task(server.serve(sockets=[self._sockets[name]]))
                )
            while not all(server.started for server in self._servers):
                if any(task.done() for task in tasks):
                    raise StartupError("a server stopped during startup")
                await asyncio.sleep(0.01)
            self.console.step("API gateway and Lambda endpoint listening")
            self._start_background()
            self._summary()
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        finally:
            self.console.step("stopping")
            await self._shutdown(tasks)
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)

    def _start_background(self) -> None:
        assert self.runner is not None
        self.runner.start()
        self.console.step(
            f"schedule runner polling every {self.config.schedule_poll_interval:g}s"
        )
        if self.snapshots is not None:
            self._saver = PeriodicSaver(
                self.snapshots, self._snapshot_extras, self.config.persist_interval
            )
            self._saver.start()

    def _start_ebay(self) -> None:
        """The eBay emulator (`local.ebay_emulator.EmulatorServer`), if present."""
        try:
            from local.ebay_emulator import EmulatorServer
        except Exception as error:
            self.console.warn(f"eBay emulator not started: {error}")
            return
        try:
            self._ebay = EmulatorServer(
                port=self.config.ebay_port or 0, host=self.config.host
            )
            self._ebay.start()
        except Exception as error:
            self._ebay = None
            self.console.warn(f"eBay emulator not started: {error}")
            return
        self.console.step(f"eBay emulator on {self._ebay.url}")
        wired = wire_ebay_emulator(self.config, self._ebay.url, self._ebay.state)
        if wired:
            self.console.step(f"functions use the eBay emulator ({wired})")

    def _start_outbox(self) -> None:
        """The Postmark outbox (`local.outbox`), accepting the token the template's
        Postmark secret holds locally."""
        from local.outbox import OutboxServer, token_from_secret

        try:
            token = token_from_secret(postmark_secret_value(self.config))
        except ValueError as error:
            raise StartupError(
                f"--secret {self.config.postmark_secret}: {error} (give the token, "
                'or {"serverToken": "..."})'
            ) from None
        try:
            self._outbox = OutboxServer(
                token=token, port=self.config.outbox_port or 0, host=self.config.host
            ).start()
        except (OSError, RuntimeError) as error:
            raise StartupError(f"the Postmark outbox did not start: {error}") from None
        self.console.step(f"Postmark outbox on {self._outbox.url}")
        wired = wire_outbox(self.config, self._outbox.api_url)
        self.console.step(f"functions use the Postmark outbox ({wired})")

    def _snapshot_extras(self) -> dict[str, Any]:
        return {
            "scheduler": self.runner.export_state() if self.runner else {},
            "template_schedules": [list(pair) for pair in self._template_schedules],
            "identity": self.identity.export_users() if self.identity else {},
        }

    def urls(self) -> dict[str, str]:
        host = self.config.public_host
        api_port = self._sockets["api"].getsockname()[1]
        lambda_port = self._sockets["lambda"].getsockname()[1]
        assert self.aws is not None and self.identity is not None
        urls = {
            "api": f"http://{host}:{api_port}",
            "aws": self.aws.url,
            "lambda": f"http://{host}:{lambda_port}",
            "jwks": f"http://{host}:{api_port}/.well-known/jwks.json",
            "issuer": self.identity.issuer,
        }
        if self._ebay is not None:
            urls["ebay"] = str(self._ebay.url)
        if self._outbox is not None:
            urls["outbox"] = str(self._outbox.url)
        return urls

    def _summary(self) -> None:
        assert self.identity is not None
        urls = self.urls()
        api = urls["api"]
        state = self.config.persist or "in memory (--persist DIR keeps it)"
        body = '{"username": "alice", "email": "alice@example.com"}'
        lines = [
            "",
            f"  Local stack ready: {len(self.functions)} function(s) from "
            f"{self.config.template.name}",
            "",
            f"  API            {api}  (try GET {api}/health)",
            f"  AWS (moto)     {urls['aws']}  (functions: AWS_ENDPOINT_URL)",
            f"  Lambda         {urls['lambda']}  (functions: AWS_ENDPOINT_URL_LAMBDA)",
            f"  JWKS           {urls['jwks']}",
            f"  Token issuer   {self.identity.issuer}",
            f"  Token audience {self.identity.client_id}",
            f"  eBay emulator  {urls.get('ebay', 'not running')}",
            "  Postmark       "
            + (
                f"{urls['outbox']}  (sent emails: {urls['outbox']}/, JSON "
                f"{urls['outbox']}/outbox/emails)"
                if "outbox" in urls
                else "no outbox (--outbox-port PORT starts one)"
            ),
            f"  State          {state}",
            "",
            "  Get a token:   make token USER=alice EMAIL=alice@example.com",
            f"                 curl -s -X POST {api}/local/token \\",
            "                   -H 'Content-Type: application/json' \\",
            f"                   -d '{body}'",
            "",
            "  Routes:",
        ]
        for route in self.routes:
            guard = f"authorizer {route.authorizer}" if route.authorizer else "open"
            lines.append(
                f"    {route.method:<7}{route.path:<32}{route.function} ({guard})"
            )
        lines += ["", "  Ctrl-C stops everything.", ""]
        self.console.raw("\n".join(lines) + "\n")

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        if self.runner is not None:
            self.runner.stop()
        for server in self._servers:
            server.should_exit = True
        if self.lambdas is not None:
            self.lambdas.close()
        if self._pool is not None:
            self._pool.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._saver is not None:
            self._saver.stop()
        if self.snapshots is not None:
            saved = self.snapshots.save(self._snapshot_extras())
            self.console.step(
                f"state {'saved' if saved else 'NOT saved'} to {self.snapshots.path}"
            )
        self._release_resources()
        self.console.step("stopped")

    def _release_resources(self) -> None:
        if self._outbox is not None:
            with contextlib.suppress(Exception):
                self._outbox.stop()
            self._outbox = None
        if self._ebay is not None:
            with contextlib.suppress(Exception):
                self._ebay.stop()
            self._ebay = None
        if self.aws is not None:
            self.aws.stop()
            self.aws = None
        for sock in self._sockets.values():
            sock.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
