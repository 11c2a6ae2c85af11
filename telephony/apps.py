"""App configuration."""

from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = "Telephony"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Logout, password, deactivation and line changes close the user's open sockets.
        from .web.revocation import connect_signals

        connect_signals()

        # The hello's cached parts (lines, connectors) are dropped when their rows change.
        from .web import hellocache

        hellocache.connect_signals()
