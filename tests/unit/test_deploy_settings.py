"""HTTPS settings come from the environment: secure by default when DEBUG is off, and the
documented production environment (docs/deploy/cti.env.example) passes ``check --deploy``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from ctiproject.env import proxy_ssl_header

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "deploy" / "cti.env.example"
SECRET = "a-test-secret-that-is-long-enough-for-check-deploy-0123456789-abcdef"
SECURITY = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
)


def documented_env() -> dict[str, str]:
    """The example environment file, as systemd's EnvironmentFile= reads it."""
    env: dict[str, str] = {}
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Our interpreter in a fresh process with only ``env`` (and PATH) set."""
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def security_settings(**env: str) -> dict[str, object]:
    code = (
        "import ctiproject.settings as s, json;"
        f"print(json.dumps({{name: getattr(s, name) for name in {list(SECURITY)!r}}}))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    settings: dict[str, object] = json.loads(result.stdout)
    return settings


def test_the_documented_production_environment_passes_check_deploy_without_warnings() -> None:
    env = documented_env()
    assert env["DEBUG"] == "false"
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_does_warn_when_https_is_turned_off() -> None:
    env = {**documented_env(), "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "no"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout
    assert "security.W012" in result.stderr + result.stdout


def test_debug_off_is_secure_by_default() -> None:
    assert security_settings(DEBUG="false", SECRET_KEY=SECRET) == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_TRUSTED_ORIGINS": [],
    }


def test_debug_on_serves_plain_http_for_development() -> None:
    settings = security_settings(DEBUG="true")
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["CSRF_COOKIE_SECURE"] is False


def test_every_security_setting_is_read_from_the_environment() -> None:
    settings = security_settings(
        DEBUG="false",
        SECRET_KEY=SECRET,
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="yes",
        SECURE_HSTS_PRELOAD="on",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="0",
        CSRF_TRUSTED_ORIGINS="https://cti.example.com, https://*.example.net",
    )
    assert settings == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "CSRF_TRUSTED_ORIGINS": ["https://cti.example.com", "https://*.example.net"],
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", None),
        ("  ", None),
        ("X-Forwarded-Proto", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("x-forwarded-proto:https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("X-Forwarded-Ssl: on", ("HTTP_X_FORWARDED_SSL", "on")),
    ],
)
def test_proxy_ssl_header_is_a_header_name_and_an_optional_value(
    raw: str, expected: tuple[str, str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", raw)
    assert proxy_ssl_header("SECURE_PROXY_SSL_HEADER") == expected


@pytest.mark.parametrize("raw", ["HTTP_X_FORWARDED_PROTO=https", "X Forwarded Proto", ": https"])
def test_a_bad_proxy_ssl_header_names_the_variable(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", raw)
    with pytest.raises(ImproperlyConfigured, match="SECURE_PROXY_SSL_HEADER"):
        proxy_ssl_header("SECURE_PROXY_SSL_HEADER")


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_the_ssl_redirect_spares_the_load_balancers_health_check() -> None:
    client = Client()
    assert client.get("/healthz").status_code == 200
    login = client.get("/accounts/login/")
    assert login.status_code == 301
    assert login["Location"] == "https://testserver/accounts/login/"
