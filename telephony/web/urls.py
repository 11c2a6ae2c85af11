"""Web routes of the app."""

from django.urls import path

from .views import (
    cards,
    contacts,
    health,
    history,
    lines,
    missed,
    panel,
    preferences,
    queues,
    wrapup,
)

app_name = "telephony"

urlpatterns = [
    path("", panel.panel, name="panel"),
    path("supervisor/", panel.supervisor, name="supervisor"),
    path("api/supervisor/today/", panel.today, name="today"),
    path("api/supervisor/queues/", queues.queues, name="queues"),
    path("history/", history.history, name="history"),
    path("history/export.csv", history.history_csv, name="history-csv"),
    path("history/<int:pk>/", history.call_detail, name="call-detail"),
    path("history/<int:pk>/wrapup/", wrapup.wrapup_for_record, name="record-wrapup"),
    path("api/wrapup/", wrapup.wrapup_for_call, name="wrapup"),
    path("contacts/<int:pk>/", contacts.contact, name="contact"),
    path("api/calls/origin/", cards.call_origin, name="call-origin"),
    path("missed/", missed.missed_calls, name="missed"),
    path("settings/", preferences.preferences, name="preferences"),
    path("api/missed/", missed.missed_count, name="missed-count"),
    path("api/directory/", lines.directory, name="directory"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]
