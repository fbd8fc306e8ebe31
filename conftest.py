"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

pytest_plugins = ["strathwell.testing.fixtures"]


def pytest_ignore_collect(collection_path, config):
    # The schemathesis module builds ~230 tests from the schema when imported (seconds): not
    # worth it in a run that deselects them anyway (the default `-m "not fuzz"`, pytest.ini).
    if collection_path.name == "test_schemathesis.py" and config.option.markexpr == "not fuzz":
        return True
    return None


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters live in the cache; each test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stripe_local(settings, localstripe_server):
    """Point the app's Stripe client at the session's localstripe (a real HTTP peer)."""
    from strathwell.testing.servers import LOCALSTRIPE_API_KEY

    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    return localstripe_server


@pytest.fixture
def read_only(settings):
    """READ_ONLY_MODE on for this test (read at request time)."""
    settings.READ_ONLY_MODE = True


@pytest.fixture
def api_client():
    return APIClient()


def client_for(user) -> APIClient:
    """An APIClient authenticated as user with a real access token."""
    from accounts.tokens import issue_tokens

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    return client


@pytest.fixture
def make_client():
    return client_for


@pytest.fixture
def organizer(db):
    from accounts.tests.factories import OrganizerFactory

    return OrganizerFactory(subscribed=True)


@pytest.fixture
def admin_user(db):
    from accounts.tests.factories import AdminFactory

    return AdminFactory()


@pytest.fixture
def organizer_client(organizer):
    return client_for(organizer)


@pytest.fixture
def admin_client_api(admin_user):
    return client_for(admin_user)


@pytest.fixture
def stripe_billing_settings(settings, localstripe_server):
    """Organizer subscriptions through Stripe Billing on the session's localstripe (a real HTTP
    peer), with the catalog made by the real `stripe_setup` code (idempotent: the first test
    makes it, the rest find it). Helpers: `accounts/tests/stripe_helpers.py`."""
    from accounts import stripe_billing
    from strathwell.testing.servers import LOCALSTRIPE_API_KEY

    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    settings.SUBSCRIPTION_PROVIDER = "stripe"
    stripe_billing.ensure_catalog()
    return localstripe_server


@pytest.fixture(autouse=True)
def _ledger_balance_checked_per_statement(request):
    """The ledger's balance trigger is deferred to COMMIT, which a test inside a rolled-back
    transaction never reaches: make it fire at the end of each statement instead, so every
    ledger write of every test is checked by the database."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or marker.kwargs.get("transaction") or (marker.args and marker.args[0]):
        yield
        return
    request.getfixturevalue("db")
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS payments_ledgerleg_balanced IMMEDIATE")
    yield
