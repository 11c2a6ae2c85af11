"""The Django project: settings, ASGI entry point and URLs."""
