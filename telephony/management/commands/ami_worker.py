"""``manage.py ami_worker``: read every enabled PBX connector until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from telephony.worker.supervisor import Supervisor


class Command(BaseCommand):
    help = "Connect to the enabled PBX connectors and serve their calls (one active per connector)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connector", help="only this connector (by name)")
        parser.add_argument("--poll", type=float, default=5.0, help="seconds between config checks")
        parser.add_argument(
            "--lease-ttl", type=float, default=10.0, help="seconds a dead worker's lease lasts"
        )

    def handle(self, *args: Any, **options: Any) -> str:
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
