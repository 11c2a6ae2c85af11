"""Creatio TMS drop-in: the Messaging Service WebSocket protocol over our own command path
and call events (docs/tms-compatibility.md)."""
