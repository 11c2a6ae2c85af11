"""The metric helpers: lag from the PBX's ``Timestamp``, reconnects as logins after the first."""

from __future__ import annotations

from prometheus_client import REGISTRY

from telephony import metrics


def sample(name: str, connector: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"connector": connector})


def test_lag_follows_the_pbx_timestamp_and_ignores_events_without_one() -> None:
    meter = metrics.AmiReadMeter("lag-test")
    meter.read("1765000000.250000", now=1765000001.75)
    assert sample("cti_ami_lag_seconds", "lag-test") == 1.5
    meter.read(None, now=1765000009.0)
    meter.read("not a time", now=1765000009.0)
    assert sample("cti_ami_lag_seconds", "lag-test") == 1.5
    assert sample("cti_ami_events_total", "lag-test") == 3


def test_every_login_after_the_first_is_a_reconnect() -> None:
    metrics.ami_logged_in("login-test")
    assert sample("cti_ami_logins_total", "login-test") == 1
    assert sample("cti_ami_reconnects_total", "login-test") in (None, 0)
    metrics.ami_logged_in("login-test")
    metrics.ami_logged_in("login-test")
    assert sample("cti_ami_logins_total", "login-test") == 3
    assert sample("cti_ami_reconnects_total", "login-test") == 2


def test_the_sample_alert_rules_use_only_metrics_we_export() -> None:
    import re
    from pathlib import Path

    rules = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "prometheus-alerts.yml"
    used = set(re.findall(r"\bcti_[a-z_]+", rules.read_text()))
    exported = {
        sample_name
        for family in REGISTRY.collect()
        if family.name.startswith("cti_")
        for sample_name in (
            family.name,
            f"{family.name}_total",
            f"{family.name}_bucket",
            f"{family.name}_count",
            f"{family.name}_sum",
        )
    }
    assert used, "no metric in the rules file"
    assert used <= exported, sorted(used - exported)
