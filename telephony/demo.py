"""Rows of the demo and of ``serve`` against a real PBX: users, a connector, its extensions
and a few contacts, created on the first start and brought back to the demo state on later
ones (idempotent). Users are the exception: one that exists is never changed.

Synchronous ORM code; knows no sockets and no simulator (it is told the simulator's port).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db import transaction

from .models import Connector, Contact, Extension

DEMO_CONNECTOR = "demo"
#: The simulator's documented login (telephony/simulator).
SIMULATOR_USERNAME = "cti"
SIMULATOR_SECRET = "cti"  # noqa: S105 - the simulated PBX's public demo secret


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    password: str
    role: str
    first_name: str = ""
    last_name: str = ""
    line: str | None = None


DEMO_USERS = (
    DemoUser("admin", "admin", "administrator"),
    DemoUser("alice", "alice", "operator", "Alice", "Smith", line="101"),
    DemoUser("boris", "boris", "operator", "Борис", "Иванов", line="102"),
    DemoUser("sofia", "sofia", "supervisor", "Sofia", "Lind"),
)
#: (name, company, phones): the simulator's callers, so demo calls find their contacts.
DEMO_CONTACTS = (
    ("Иван Петров", "ООО «Ромашка»", "+1 555 123-0002"),  # noqa: RUF001 - Cyrillic on purpose
    ("Мария Смирнова", "АО «Север»", "+15551230004"),  # noqa: RUF001 - Cyrillic on purpose
    ("Acme Logistics", "Acme", "+15551230003"),
    ("Jane Doe", "Globex", "+15551230006, +15559870001"),
    ("Пётр Сидоров", "", "+15559870002"),
)


def may_seed_demo(*, forced: bool) -> bool:
    """Demo rows (users with known passwords) go only into the default SQLite database,
    unless the operator says otherwise: ``DATABASE_URL`` means a database someone cares for."""
    return forced or not settings.DATABASE_URL


@transaction.atomic
def seed_demo(simulator_port: int) -> list[DemoUser]:
    """Create the missing demo rows; point the demo connector at the simulator.

    A demo user that already exists keeps its password, flags and permissions: ``make run``
    must not reset an ``admin`` whose password someone changed.
    """
    connector, _ = Connector.objects.update_or_create(
        name=DEMO_CONNECTOR,
        defaults={
            "host": "127.0.0.1",
            "port": simulator_port,
            "username": SIMULATOR_USERNAME,
            "secret": SIMULATOR_SECRET,
            "dialect": Connector.Dialect.MODERN,
            "hold_method": Connector.HoldMethod.PARK,
            "answer_method": Connector.AnswerMethod.PHONE_NOTIFY,
            "enabled": True,
        },
    )
    supervise = Permission.objects.get(codename="supervise", content_type__app_label="telephony")
    users: dict[str, User] = {}
    for demo in DEMO_USERS:
        existing = User.objects.filter(username=demo.username).first()
        users[demo.username] = existing or _create_user(demo, supervise)
    lines = {demo.line: users[demo.username] for demo in DEMO_USERS if demo.line}
    for number, name in (("101", "Alice"), ("102", "Борис"), ("103", "Reception")):
        Extension.objects.update_or_create(
            connector=connector,
            number=number,
            defaults={"operator": lines.get(number), "display_name": name},
        )
    for name, company, phones in DEMO_CONTACTS:
        if not Contact.objects.filter(name=name).exists():
            Contact(name=name, company=company, phones=phones).save()
    return list(DEMO_USERS)


def _create_user(demo: DemoUser, supervise: Permission) -> User:
    user = User(username=demo.username, first_name=demo.first_name, last_name=demo.last_name)
    user.is_staff = demo.role in {"administrator", "supervisor"}
    user.is_superuser = demo.role == "administrator"
    user.set_password(demo.password)
    user.save()
    if demo.role == "supervisor":
        user.user_permissions.add(supervise)
        user.user_permissions.add(*Permission.objects.filter(codename="view_contact"))
    return user


def connector_from_env() -> Connector | None:
    """``AMI_HOST`` (and ``AMI_PORT``, ``AMI_USERNAME``, ``AMI_SECRET``, ``AMI_DIALECT``,
    ``AMI_CONNECTOR``, ``AMI_LINES``) create or update a connector; None without AMI_HOST."""
    host = os.environ.get("AMI_HOST", "").strip()
    if not host:
        return None
    dialect = os.environ.get("AMI_DIALECT", "auto")
    if dialect not in Connector.Dialect.values:
        raise ValueError(f"AMI_DIALECT must be one of {', '.join(Connector.Dialect.values)}")
    connector, _ = Connector.objects.update_or_create(
        name=os.environ.get("AMI_CONNECTOR", "pbx"),
        defaults={
            "host": host,
            "port": int(os.environ.get("AMI_PORT", "5038")),
            "username": os.environ.get("AMI_USERNAME", "cti"),
            "secret": os.environ.get("AMI_SECRET", ""),
            "dialect": dialect,
            "enabled": True,
        },
    )
    for number in filter(None, (n.strip() for n in os.environ.get("AMI_LINES", "").split(","))):
        Extension.objects.get_or_create(connector=connector, number=number)
    return connector
