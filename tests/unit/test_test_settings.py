"""The test run hashes passwords fast (tests/settings.py); production keeps Django's default."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.contrib.auth.hashers import make_password

from tests.support.daphne import ROOT


def test_tests_hash_passwords_with_the_fast_hasher() -> None:
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert make_password("pw").startswith("md5$")


def test_production_settings_keep_the_strong_default_hasher() -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'ctiproject.settings';"
        "django.setup(); from django.contrib.auth.hashers import make_password;"
        "print(make_password('pw').split('$')[0])"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "pbkdf2_sha256"
