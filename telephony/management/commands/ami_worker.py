"""``manage.py ami_worker``: read every enabled PBX connector until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from telephony.metrics import serve_worker_metrics
from telephony.worker.supervisor import Supervisor


class Command(BaseCommand):
    help = "Connect to the enabled PBX connectors and serve their calls (one active per connector)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connector", help="only this connector (by name)")
        parser.add_argument("--poll", type=float, default=5.0, help="seconds between config checks")
        parser.add_argument(
            "--lease-ttl", type=float, default=10.0, help="seconds a dead worker's lease lasts"
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=settings.WORKER_METRICS_PORT,
            help="serve Prometheus metrics on this port (0: off; WORKER_METRICS_PORT)",
        )
        parser.add_argument(
            "--metrics-address",
            default=settings.WORKER_METRICS_ADDRESS,
            help="address of the metrics port (WORKER_METRICS_ADDRESS, 127.0.0.1)",
        )

    def handle(self, *args: Any, **options: Any) -> str:
        if options["metrics_port"]:
            serve_worker_metrics(options["metrics_port"], options["metrics_address"])
        supervisor = Supervisor(
            only=options["connector"], poll=options["poll"], lease_ttl=options["lease_ttl"]
        )

        async def main() -> list[str]:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, supervisor.stop)
            summaries = await supervisor.run()
            return [summary.line() for summary in summaries]

        lines = asyncio.run(main())
        return "ami_worker stopped: " + ("; ".join(lines) or "no connector ran")
