"""Django admin: connectors (with live status and a login test), extensions, contacts, history."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from .connectors import config_for, probe
from .models import (
    CallEvent,
    CallRecord,
    Connector,
    Contact,
    ContactPhone,
    Extension,
    WrapUpTag,
)


class SecretField(forms.CharField):
    """A write-only value: changed only when something was typed, since it is never shown.

    Without this, every edit compares the stored secret with the empty box and the admin
    history says "Changed AMI secret" for edits that kept it.
    """

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data)


class ConnectorForm(forms.ModelForm[Connector]):
    """The secret is write-only: never rendered back, kept when left blank on edit."""

    secret = SecretField(
        label=_("AMI secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave blank to keep the current secret."),
    )

    class Meta:
        model = Connector
        fields = [
            "name",
            "enabled",
            "host",
            "port",
            "username",
            "secret",
            "use_md5",
            "dialect",
            "originate_context",
            "outbound_dial_pattern",
            "channel_template",
            "hold_method",
            "answer_method",
            "parking_lot",
            "fallback_encoding",
            "tms_enabled",
            "tms_origins",
        ]

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data.get("secret") or ""
        if not secret:
            if self.instance.pk:
                return self.instance.secret
            raise forms.ValidationError(_("A new connector needs its AMI secret."))
        return secret


class ExtensionInline(admin.TabularInline[Extension, Connector]):
    model = Extension
    extra = 0
    fields = ["number", "device", "operator", "display_name", "tms_key"]


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin[Connector]):
    form = ConnectorForm
    list_display = [
        "name",
        "address",
        "enabled",
        "is_connected",
        "connected_since",
        "last_event",
        "last_error",
        "worker_host",
    ]
    list_filter = ["enabled", "dialect"]
    inlines = [ExtensionInline]
    actions = ["test_connection"]
    fieldsets = [
        (None, {"fields": ["name", "enabled"]}),
        (_("AMI"), {"fields": ["host", "port", "username", "secret", "use_md5", "dialect"]}),
        (_("Link check"), {"fields": ["ping_interval", "ping_timeout"]}),
        (
            _("Calls"),
            {
                "fields": [
                    "originate_context",
                    "outbound_dial_pattern",
                    "channel_template",
                    "hold_method",
                    "answer_method",
                    "parking_lot",
                    "fallback_encoding",
                ]
            },
        ),
        (_("Creatio TMS"), {"fields": ["tms_enabled", "tms_origins"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Connector]:
        return super().get_queryset(request).select_related("status")

    @admin.display(description=_("address"))
    def address(self, connector: Connector) -> str:
        return f"{connector.username}@{connector.host}:{connector.port}"

    @admin.display(description=_("connected"), boolean=True)
    def is_connected(self, connector: Connector) -> bool | None:
        status = getattr(connector, "status", None)
        return None if status is None else status.connected

    @admin.display(description=_("since"))
    def connected_since(self, connector: Connector) -> Any:
        status = getattr(connector, "status", None)
        return status.since if status is not None and status.connected else "—"

    @admin.display(description=_("last event"))
    def last_event(self, connector: Connector) -> Any:
        status = getattr(connector, "status", None)
        return status.last_event_at if status is not None else "—"

    @admin.display(description=_("last error"))
    def last_error(self, connector: Connector) -> str:
        status = getattr(connector, "status", None)
        return status.last_error if status is not None else ""

    @admin.display(description=_("worker host"))
    def worker_host(self, connector: Connector) -> str:
        status = getattr(connector, "status", None)
        return status.worker_host if status is not None else ""

    def get_urls(self) -> list[URLPattern]:
        test = self.admin_site.admin_view(self.test_connection_view)
        own = [path("<int:object_id>/test-connection/", test, name="telephony_connector_test")]
        return own + super().get_urls()

    def test_connection_view(self, request: HttpRequest, object_id: int) -> JsonResponse:
        """The change page's *Test connection* button: log in with the saved settings once,
        answer ``{"ok", "message"}`` for the page to show beside the button."""
        connector = self.get_object(request, str(object_id))
        if connector is None or not self.has_change_permission(request, connector):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"ok": False, "message": "POST only"}, status=405)
        result = async_to_sync(probe)(config_for(connector))
        return JsonResponse({"ok": result.ok, "message": result.message})

    @admin.action(description=_("Test connection (log in to the PBX)"))
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Connector]) -> None:
        for connector in queryset:
            result = async_to_sync(probe)(config_for(connector))
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{connector.name}: {result.message}", level)


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin[Extension]):
    list_display = ["number", "display_name", "connector", "device", "operator"]
    list_filter = ["connector"]
    search_fields = ["number", "display_name", "operator__username"]
    autocomplete_fields = ["operator"]


class ContactPhoneInline(admin.TabularInline[ContactPhone, Contact]):
    model = ContactPhone
    extra = 0
    can_delete = False
    readonly_fields = ["normalized"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = ["name", "company", "phones"]
    search_fields = ["name", "company", "phones", "numbers__normalized"]
    inlines = [ContactPhoneInline]


class CallEventInline(admin.TabularInline[CallEvent, CallRecord]):
    """The record's event timeline, oldest first."""

    model = CallEvent
    extra = 0
    can_delete = False
    readonly_fields = ("seq", "name", "occurred_at", "payload")
    fields = readonly_fields
    ordering = ["seq"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CallRecord)
class CallRecordAdmin(admin.ModelAdmin[CallRecord]):
    """Read-only history: the worker writes it, nobody edits it."""

    list_display = [
        "started_at",
        "line",
        "direction",
        "caller_number",
        "callee_number",
        "contact",
        "disposition",
        "talk_seconds",
        "hold_seconds",
    ]
    list_filter = ["started_at", "direction", "disposition", "line", "connector"]
    search_fields = ["caller_number", "callee_number", "caller_name", "callee_name", "call_id"]
    date_hierarchy = "started_at"
    inlines = [CallEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in CallRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WrapUpTag)
class WrapUpTagAdmin(admin.ModelAdmin[WrapUpTag]):
    """The result tags operators pick after a call."""

    list_display = ["name", "active", "position"]
    list_editable = ["active", "position"]
    search_fields = ["name"]
