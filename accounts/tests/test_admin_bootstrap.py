import pytest

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD
from strathwell.audit.models import AuditLog

pytestmark = pytest.mark.django_db

BODY = {"email": "Root@Strathwell.test", "password": DEFAULT_PASSWORD, "full_name": "Root Admin"}


def bootstrap(client, token):
    headers = {"HTTP_X_ADMIN_BOOTSTRAP_TOKEN": token} if token is not None else {}
    return client.post("/api/v1/auth/admin-bootstrap", BODY, format="json", **headers)


def test_right_token_creates_an_audited_admin(api_client, settings):
    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"
    response = bootstrap(api_client, "s3cret-bootstrap")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "root@strathwell.test"
    assert body["role"] == "admin" and body["is_admin"] is True
    user = User.objects.get(email="root@strathwell.test")
    assert user.is_staff and user.is_superuser

    log = AuditLog.objects.get(action="admin.bootstrap")
    assert log.target_type == "accounts.user" and log.target_id == str(user.id)
    assert log.actor is None
    assert log.before is None
    assert log.after["email"] == "root@strathwell.test"
    assert log.after["password"] == "***"  # secrets masked in snapshots
    assert log.ip == "127.0.0.1"


def test_wrong_or_missing_token_is_403(api_client, settings):
    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"
    for token in ["wrong", "", None, "s3cret-bootstrap-but-longer"]:
        response = bootstrap(api_client, token)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert not User.objects.exists()
    assert not AuditLog.objects.exists()


def test_unset_token_hides_the_endpoint(api_client, settings):
    settings.ADMIN_BOOTSTRAP_TOKEN = ""
    response = bootstrap(api_client, "anything")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_existing_email_conflicts(api_client, settings):
    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"
    settings.ADMIN_BOOTSTRAP_ALLOW_MORE = True
    assert bootstrap(api_client, "s3cret-bootstrap").status_code == 201
    response = bootstrap(api_client, "s3cret-bootstrap")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_exists"
    assert AuditLog.objects.filter(action="admin.bootstrap").count() == 1


def test_bootstrapped_admin_can_log_in(api_client, settings):
    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"
    bootstrap(api_client, "s3cret-bootstrap")
    response = api_client.post(
        "/api/v1/auth/login", {"email": "root@strathwell.test", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["user"]["is_admin"] is True


def test_token_is_spent_once_a_superuser_exists(api_client, settings):
    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"
    assert bootstrap(api_client, "s3cret-bootstrap").status_code == 201
    other = {**BODY, "email": "second@strathwell.test"}
    response = api_client.post(
        "/api/v1/auth/admin-bootstrap",
        other,
        format="json",
        HTTP_X_ADMIN_BOOTSTRAP_TOKEN="s3cret-bootstrap",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert User.objects.filter(is_superuser=True).count() == 1
    assert AuditLog.objects.filter(action="admin.bootstrap").count() == 1


def test_any_existing_superuser_closes_it(api_client, settings):
    from accounts.tests.factories import AdminFactory

    AdminFactory()
    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"
    assert bootstrap(api_client, "s3cret-bootstrap").status_code == 404
    # ...unless the operator explicitly allows more.
    settings.ADMIN_BOOTSTRAP_ALLOW_MORE = True
    assert bootstrap(api_client, "s3cret-bootstrap").status_code == 201
    assert User.objects.filter(is_superuser=True).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(2))
def test_concurrent_bootstraps_make_one_superuser(settings, attempt):
    """Two requests with the token at the same instant: the advisory lock lets one through;
    the other finds its superuser (404). Without the lock both pass the check."""
    from rest_framework.test import APIClient

    from strathwell.testing.threads import run_together

    settings.ADMIN_BOOTSTRAP_TOKEN = "s3cret-bootstrap"

    def call(n):
        def go():
            body = {**BODY, "email": f"root{n}@strathwell.test"}
            return APIClient().post(
                "/api/v1/auth/admin-bootstrap",
                body,
                format="json",
                HTTP_X_ADMIN_BOOTSTRAP_TOKEN="s3cret-bootstrap",
            )

        return go

    outcomes = run_together(*(call(n) for n in range(4)))
    codes = sorted(o.status_code for o in outcomes)
    assert codes == [201, 404, 404, 404], codes
    assert User.objects.filter(is_superuser=True).count() == 1
