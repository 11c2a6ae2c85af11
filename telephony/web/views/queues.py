"""The queue board for a supervisor page that opens: what the worker last left in the cache.

Live changes come over the socket (``queue.state``); each board carries the worker's ``at``
so the page keeps the newer of the two.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse

from ...groups import queues_cache_key
from ...models import Connector
from .access import SUPERVISE


@login_required
@permission_required(SUPERVISE, raise_exception=True)
def queues(request: HttpRequest) -> JsonResponse:
    """``{"connectors": [{"connector", "at", "queues"}, ...]}``; a connector whose worker
    has not reported yet is left out."""
    ids = list(Connector.objects.values_list("pk", flat=True))
    boards = cache.get_many([queues_cache_key(pk) for pk in ids])
    return JsonResponse({"connectors": [boards[key] for key in sorted(boards)]})
