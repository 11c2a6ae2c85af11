"""The demo seed (``make run``): creates what is missing, never resets a user someone changed,
and stays out of a database named by ``DATABASE_URL`` unless forced.

Personas: the demo's admin, alice, boris and sofia; on a used database "admin" has a password
of its owner's choosing and alice is no longer staff.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from telephony.demo import DEMO_CONNECTOR, DEMO_USERS, may_seed_demo, seed_demo
from telephony.models import Connector, Extension

pytestmark = pytest.mark.django_db


def test_seeding_an_empty_database_creates_the_demo_users_with_their_passwords() -> None:
    seed_demo(5038)

    users = {user.username: user for user in User.objects.all()}
    assert sorted(users) == sorted(demo.username for demo in DEMO_USERS)
    assert all(users[name].check_password(name) for name in users)
    assert users["admin"].is_superuser
    assert users["sofia"].has_perm("telephony.supervise")
    assert not users["alice"].is_staff
    assert Extension.objects.get(number="101").operator == users["alice"]


def test_seeding_again_never_resets_an_existing_users_password_or_flags() -> None:
    seed_demo(5038)
    admin = User.objects.get(username="admin")
    admin.set_password("chosen-by-the-owner")
    admin.is_superuser = False
    admin.save()
    User.objects.filter(username="sofia").update(first_name="Sonja", is_staff=False)
    User.objects.get(username="sofia").user_permissions.clear()

    seed_demo(5039)  # the next `make run`

    admin = User.objects.get(username="admin")
    assert admin.check_password("chosen-by-the-owner")
    assert not admin.check_password("admin")
    assert not admin.is_superuser
    sofia = User.objects.get(username="sofia")
    assert (sofia.first_name, sofia.is_staff) == ("Sonja", False)
    assert not sofia.has_perm("telephony.supervise")
    assert Connector.objects.get(name=DEMO_CONNECTOR).port == 5039


def test_seeding_creates_only_the_demo_users_that_are_missing() -> None:
    boris = User.objects.create_user("boris", password="boris-own-pw")

    seed_demo(5038)

    assert User.objects.get(username="boris").check_password("boris-own-pw")
    assert User.objects.get(username="alice").check_password("alice")
    assert Extension.objects.get(number="102").operator == boris


def test_serve_demo_refuses_a_database_url_and_seeds_nothing() -> None:
    with (
        override_settings(DATABASE_URL="postgres://cti:secret@db.example.com:5432/cti"),
        pytest.raises(CommandError, match="--force-demo"),
    ):
        call_command("serve", "--demo")

    assert not User.objects.exists()
    assert not Connector.objects.exists()


def test_the_demo_is_seeded_without_database_url_or_when_forced() -> None:
    with override_settings(DATABASE_URL=""):
        assert may_seed_demo(forced=False)  # `make run` on a fresh clone
    with override_settings(DATABASE_URL="postgres://cti:secret@db.example.com:5432/cti"):
        assert not may_seed_demo(forced=False)
        assert may_seed_demo(forced=True)
