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
