"""Do-not-disturb as server state: which lines have it on. Written once the PBX accepted a
``SetDnd`` (the consumer calls ``record``), read by the hello, the directory and the
supervisor page. Synchronous ORM code; knows no socket.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models import LineDnd


def record(connector_id: int, line: str, enabled: bool) -> None:
    LineDnd.objects.update_or_create(
        connector_id=connector_id, line=line, defaults={"enabled": enabled}
    )


def dnd_lines(connector_ids: Iterable[int]) -> set[tuple[int, str]]:
    """``{(connector, line)}`` of the lines with DND on."""
    rows = LineDnd.objects.filter(connector_id__in=list(connector_ids), enabled=True)
    return set(rows.values_list("connector_id", "line"))
