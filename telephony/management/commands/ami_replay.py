"""``manage.py ami_replay FILE``: a recorded AMI session through the call model, as JSON lines.

Thin: reading, parsing and the model live in ``telephony.callmodel.replay``.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from telephony.callmodel import CaptureError, Dialect, read_capture_file, replay


class Command(BaseCommand):
    help = (
        "Replay a raw AMI capture (.ami, .ami.gz) or a recorder JSONL file: prints each call "
        "event, then one {'record': ...} per call and line, one JSON object per line."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="raw AMI bytes as Asterisk sent them, or events.jsonl")
        parser.add_argument(
            "--lines",
            default=None,
            help="comma-separated extensions (101,102); default: every phone-like device",
        )
        parser.add_argument(
            "--dialect",
            choices=[dialect.value for dialect in Dialect],
            default=Dialect.AUTO.value,
            help="AMI event dialect: 12 (Asterisk 12+), 11 (1.8/11) or auto-detect",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        lines = None
        if options["lines"]:
            lines = [line.strip() for line in options["lines"].split(",") if line.strip()]
        try:
            packets = read_capture_file(path)
        except CaptureError as error:
            raise CommandError(f"{path}: {error}") from error
        try:
            for item in replay(packets, lines=lines, dialect=options["dialect"]):
                self.stdout.write(json.dumps(item, ensure_ascii=False))
        except BrokenPipeError:
            # `ami_replay ... | head`: the reader left; nothing more to say.
            return
