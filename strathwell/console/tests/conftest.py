import pytest
from django.test import Client

from accounts.tests.factories import AdminFactory


@pytest.fixture
def staff(db):
    """A staff superuser (role admin), as the console's operators are."""
    return AdminFactory(email="ops@strathwell.test", full_name="Olive Ops")


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client
