"""Web routes of the app."""

from django.urls import path

from . import views

app_name = "telephony"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]
