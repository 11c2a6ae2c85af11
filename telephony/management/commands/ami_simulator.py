"""``manage.py ami_simulator``: a fake Asterisk on 127.0.0.1 for the demo, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from telephony.simulator import DEFAULT_EVERY, Simulator
from telephony.simulator.truth import TruthLog


class Command(BaseCommand):
    help = "Run a simulated Asterisk that speaks AMI and makes calls on a schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=5038, help="AMI port (0: any free one)")
        parser.add_argument("--username", default="cti", help="AMI login name")
        parser.add_argument("--secret", default="cti", help="AMI secret")
        parser.add_argument(
            "--dialect", choices=["22", "11"], default="22", help="Asterisk event dialect"
        )
        pace = parser.add_mutually_exclusive_group()
        pace.add_argument(
            "--every", type=float, default=None, help=f"seconds between calls ({DEFAULT_EVERY})"
        )
        pace.add_argument("--rate", type=float, default=None, help="calls per second instead")
        parser.add_argument("--lines", default="101,102", help="operator lines, comma-separated")
        parser.add_argument("--seed", type=int, default=None, help="repeat a run exactly")
        parser.add_argument(
            "--time-scale", type=float, default=1.0, help="0.5: every pause lasts half as long"
        )
        parser.add_argument(
            "--truth", help="append what each line's leg did to this JSON-lines file"
        )
        parser.add_argument(
            "--no-schedule", action="store_true", help="no calls of its own, only Originate"
        )

    def handle(self, *args: Any, **options: Any) -> str:
        if logging.getLogger("telephony").level == logging.NOTSET:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        try:
            simulator = Simulator(
                host=options["host"],
                port=options["port"],
                username=options["username"],
                secret=options["secret"],
                dialect=options["dialect"],
                lines=options["lines"].split(","),
                every=options["every"] or DEFAULT_EVERY,
                rate=options["rate"],
                seed=options["seed"],
                schedule=not options["no_schedule"],
                time_scale=options["time_scale"],
                truth=TruthLog(options["truth"]) if options["truth"] else None,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error

        async def main() -> int:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            try:
                await simulator.start()
            except OSError as error:
                raise CommandError(f"cannot listen: {error}") from error
            self.stdout.write(
                f"simulated Asterisk {options['dialect']} AMI on {options['host']}:"
                f"{simulator.port} (user {options['username']}), lines {', '.join(simulator.lines)}"
            )
            await stop.wait()
            await simulator.stop()
            return simulator.calls_started

        calls = asyncio.run(main())
        return f"ami_simulator stopped after {calls} calls"
