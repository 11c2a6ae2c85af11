"""Web pages of the app, one module per page family: the call panel and supervisor view
(``panel``), the call history (``history``) and the panel's small JSON helpers (``lines``)."""
