"""The public template catalogue (`GET /templates`), cached in the shared cache (issue #15).

Every caller sees the same published list, it is read far more often than staff change it,
and after the lean serializers its cost is almost all ORM query building and two round trips
to PostgreSQL. So pages are cached, keyed by a catalogue *version*:

- a page's key is the version + what makes the page differ: the query string (filters, page,
  page size) and the scheme and host its `next`/`previous` links are built from;
- any change to a template or an item (the staff API, the admin site, the demo seed: every
  `save()` / `delete()`, and `services._replace_items`' bulk insert, which saves its template)
  sets a new version **after the commit**, so a page computed from uncommitted or older data
  can only be stored under a version nobody reads any more;
- pages also expire after `PAGE_SECONDS`, the bound on staleness should a change ever bypass
  the models (raw SQL, `QuerySet.update()`: none in the code today).

Without Redis (`make run`, the tests) the cache is per process (LocMem), which is still exact:
a process's own changes bump its own version, and there is one process.
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "templates:catalogue:version"
PAGE_SECONDS = 300


def version() -> str:
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        current = cache.get(VERSION_KEY)
    return current


def page_key(request) -> str:
    query = sorted(request.query_params.lists())
    what = f"{request.scheme}://{request.get_host()}?{query!r}"
    return f"templates:page:{version()}:{hashlib.sha256(what.encode()).hexdigest()[:32]}"


def _bump() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def changed(sender=None, **kwargs) -> None:
    """Receiver of Template / TemplateItem `post_save` and `post_delete`."""
    transaction.on_commit(_bump)
