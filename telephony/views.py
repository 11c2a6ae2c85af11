"""Web pages: the landing page (the call panel comes with its own issue) and a health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """Placeholder landing page until the operator panel exists."""
    return render(request, "telephony/home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and ``make run`` smoke tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok", "database": connection.vendor})
