"""``manage.py serve [--demo]``: daphne + the AMI worker (+ the simulated PBX) in one process."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ctiproject.env import env_bool
from telephony.demo import DEMO_CONNECTOR, connector_from_env, may_seed_demo, seed_demo
from telephony.models import Connector
from telephony.oneprocess import Options, run


class Command(BaseCommand):
    help = (
        "Serve the web app, the WebSocket API and the AMI worker in one process "
        "(in-memory channel layer unless REDIS_URL is set). --demo adds a simulated PBX."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="HTTP port")
        parser.add_argument(
            "--demo",
            action="store_true",
            default=env_bool("DEMO", default=False),
            help="seed demo users and contacts and run a simulated Asterisk (env DEMO=1)",
        )
        parser.add_argument(
            "--force-demo",
            action="store_true",
            help="seed the demo even though DATABASE_URL is set (existing users stay unchanged)",
        )
        parser.add_argument("--every", type=float, default=6.0, help="demo: seconds between calls")
        parser.add_argument(
            "--no-schedule", action="store_true", help="demo: no calls of the simulator's own"
        )
        parser.add_argument("--dialect", choices=["22", "11"], default="22", help="demo dialect")

    def handle(self, *args: Any, **options: Any) -> str:
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        demo = bool(options["demo"])
        if demo and not may_seed_demo(forced=options["force_demo"]):
            raise CommandError(
                "DATABASE_URL is set, and --demo (DEMO=1, the default of `make run`) would add "
                "demo users with known passwords (admin/admin...) and a demo PBX to that "
                "database. Serve your own PBX without --demo (`make run DEMO=0`), or pass "
                "--force-demo to seed it anyway (users that already exist are left unchanged)."
            )
        url = f"http://{options['host']}:{options['port']}/"
        try:
            configured = connector_from_env()
        except ValueError as error:
            raise CommandError(str(error)) from error
        if configured is not None:
            self.stdout.write(
                f"connector {configured.name!r} -> {configured.host}:{configured.port}"
            )
        if not demo and not Connector.objects.filter(enabled=True).exists():
            self.stdout.write(
                "no PBX connector is configured: add one in the admin, set AMI_HOST, "
                "or run with --demo for a simulated PBX"
            )

        def ready() -> None:
            self.stdout.write(f"serving {url} (Ctrl+C stops)")
            if demo:
                self.stdout.write("demo users (password = user name unless changed since):")
                self.stdout.write("  admin  administrator  /admin/")
                self.stdout.write("  alice  operator, line 101")
                self.stdout.write("  boris  operator, line 102")
                self.stdout.write("  sofia  supervisor  /supervisor/")
            self.stdout.flush()

        def on_simulator(port: int) -> None:
            seed_demo(port)

        if demo:
            # Seed before serving so the login works at once; the port is fixed up later.
            seed_demo(
                Connector.objects.filter(name=DEMO_CONNECTOR).values_list("port", flat=True).first()
                or 5038
            )
        run(
            Options(
                host=options["host"],
                port=options["port"],
                simulator=demo,
                sim_every=options["every"],
                sim_dialect=options["dialect"],
                sim_schedule=not options["no_schedule"],
                on_simulator=on_simulator if demo else None,
                ready=ready,
                verbosity=options["verbosity"],
            )
        )
        return "serve stopped"
