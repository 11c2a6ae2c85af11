"""Settings come from the environment; a bad value is a clear ImproperlyConfigured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ctiproject.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Imports the settings module in a fresh interpreter with ``env`` set."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    code = (
        "import ctiproject.settings as s, json;"
        "print(json.dumps({'db': s.DATABASES['default']['ENGINE'],"
        " 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'debug': s.DEBUG,"
        " 'hosts': s.ALLOWED_HOSTS}))"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed snippet
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_defaults_are_sqlite_and_the_in_memory_layer() -> None:
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert '"db": "django.db.backends.sqlite3"' in result.stdout
    assert '"layer": "channels.layers.InMemoryChannelLayer"' in result.stdout


def test_database_and_redis_urls_switch_to_production_backends() -> None:
    result = load_settings(
        DATABASE_URL="postgres://u:p@127.0.0.1:5432/cti", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout
    assert "channels_redis.pubsub.RedisPubSubChannelLayer" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1"}, "REDIS_URL"),
        ({"DEBUG": "0"}, "SECRET_KEY must be set"),
    ],
)
def test_bad_values_raise_improperly_configured(env: dict[str, str], message: str) -> None:
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_allowed_hosts_is_a_comma_separated_list() -> None:
    result = load_settings(ALLOWED_HOSTS="cti.example.com, 10.0.0.5")
    assert '"hosts": ["cti.example.com", "10.0.0.5"]' in result.stdout


def test_env_readers_parse_and_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BOOL", "Yes")
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_LIST", "a,,b")
    assert env_bool("X_BOOL", default=False) is True
    assert env_int("X_INT", 0) == 12
    assert env_list("X_LIST", []) == ["a", "b"]
    monkeypatch.setenv("X_INT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="X_INT='twelve' is not an integer"):
        env_int("X_INT", 0)
