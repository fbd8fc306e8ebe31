"""Signing in beyond the password: the login lockout (django-axes, console and API, on the shared
cache) and staff TOTP (django-otp) for the console and the API."""

import uuid

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from strathwell.audit.models import AuditLog
from strathwell.testing.fixtures import in_ci

pytestmark = pytest.mark.django_db

WRONG = "Wr0ng-passw0rd!"


def api_login(email, password, client=None, **extra):
    client = client or APIClient()
    return client.post(
        "/api/v1/auth/login", {"email": email, "password": password, **extra}, format="json"
    )


def console_login(client, email, password, **extra):
    return client.post(
        "/admin/login/?next=/admin/", {"username": email, "password": password, **extra}
    )


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{value:0{device.digits}d}"


def unthrottle(device: TOTPDevice) -> None:
    device.refresh_from_db()
    device.throttle_reset()


@pytest.fixture(autouse=True)
def _fresh_axes_handler():
    # The handler keeps the cache it was built with: tests that swap CACHES need a new one.
    AxesProxyHandler.implementation = None
    yield
    AxesProxyHandler.implementation = None


# --- lockout: API ------------------------------------------------------------------------------


def test_forty_wrong_passwords_then_the_right_one_is_still_refused(settings):
    """The finding: 40 wrong passwords, then success. Now the 5th failure locks the pair."""
    settings.THROTTLE_AUTH_RATE = "1000/min"  # the per-IP throttle is not what is tested here
    user = UserFactory(email="pat@example.com")
    codes = [api_login(user.email, WRONG).status_code for _ in range(40)]
    assert codes[:4] == [401] * 4
    assert set(codes[4:]) == {429}
    response = api_login(user.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    body = response.json()["error"]
    assert body["code"] == "account_locked"
    assert body["details"]["retry_after_seconds"] == settings.LOGIN_LOCKOUT_MINUTES * 60
    assert response["Retry-After"] == str(settings.LOGIN_LOCKOUT_MINUTES * 60)


def test_lockout_is_per_email_and_client_ip_and_a_success_resets_it(settings):
    settings.NUM_PROXIES = 1  # X-Forwarded-For names the client (one trusted proxy)
    user, other = UserFactory(email="pat@example.com"), UserFactory(email="sam@example.com")
    here = APIClient(HTTP_X_FORWARDED_FOR="203.0.113.7")
    elsewhere = APIClient(HTTP_X_FORWARDED_FOR="198.51.100.9")

    for _ in range(4):
        assert api_login(user.email, WRONG, here).status_code == 401
    assert api_login(user.email, DEFAULT_PASSWORD, here).status_code == 200  # resets the count
    for _ in range(4):
        assert api_login(user.email, WRONG, here).status_code == 401
    assert api_login(user.email, WRONG, here).status_code == 429  # the 5th in a row locks

    assert api_login(user.email, DEFAULT_PASSWORD, here).status_code == 429
    assert api_login(user.email.upper(), DEFAULT_PASSWORD, here).status_code == 429  # same email
    assert api_login(user.email, DEFAULT_PASSWORD, elsewhere).status_code == 200
    assert api_login(other.email, DEFAULT_PASSWORD, here).status_code == 200


def test_password_change_counts_towards_the_lockout(settings):
    user = UserFactory(email="pat@example.com")
    tokens = api_login(user.email, DEFAULT_PASSWORD).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    body = {"current_password": WRONG, "new_password": "An0ther-Passw0rd!"}
    codes = [client.post("/api/v1/auth/password", body).status_code for _ in range(6)]
    assert codes == [400] * 4 + [429, 429]


# --- lockout: console ------------------------------------------------------------------------


def test_console_login_locks_out_after_the_limit():
    staff = AdminFactory(email="ops@strathwell.test")
    client = Client()
    for _ in range(4):
        assert console_login(client, staff.email, WRONG).status_code == 200  # the form again
    locked = console_login(client, staff.email, WRONG)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert console_login(client, staff.email, DEFAULT_PASSWORD).status_code == 429
    assert client.get("/admin/").status_code == 302  # not signed in

    other_ip = Client(REMOTE_ADDR="192.0.2.44")
    assert console_login(other_ip, staff.email, DEFAULT_PASSWORD).status_code == 302


def test_lockout_lives_in_the_shared_cache(settings):
    """With CACHE_URL on Redis the failure counts are in Redis, where every process sees them."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    server = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        if in_ci():
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"strathwell-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    user = UserFactory(email="pat@example.com")
    try:
        for _ in range(5):
            api_login(user.email, WRONG)
        keys = server.keys(f"{prefix}:*:axes-*")  # django-axes' failure counters
        assert keys, "no lockout state in Redis"
        assert max(int(server.get(k)) for k in keys) >= settings.LOGIN_FAILURE_LIMIT
        # A new handler (as in another process) reads the same state.
        AxesProxyHandler.implementation = None
        assert api_login(user.email, DEFAULT_PASSWORD).status_code == 429
    finally:
        for key in server.keys(f"{prefix}:*"):
            server.delete(key)


# --- TOTP: API ---------------------------------------------------------------------------------


@pytest.fixture
def otp_on(settings):
    settings.STAFF_OTP_REQUIRED = True
    settings.APP_ENV = "staging"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_api_staff_login_needs_a_valid_code(otp_on):
    staff = AdminFactory(email="ops@strathwell.test")
    device = confirmed_device(staff)

    response = api_login(staff.email, DEFAULT_PASSWORD)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "otp_required"
    assert "access" not in response.json()

    response = api_login(staff.email, DEFAULT_PASSWORD, otp_token="000000")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_otp"

    unthrottle(device)  # django-otp pauses a device briefly after a wrong code
    response = api_login(staff.email, DEFAULT_PASSWORD, otp_token=code_for(device))
    assert response.status_code == 200, response.json()
    assert response.json()["user"]["is_admin"] is True


def test_api_staff_without_an_authenticator_must_set_one_up_first(otp_on):
    staff = AdminFactory(email="ops@strathwell.test")
    response = api_login(staff.email, DEFAULT_PASSWORD)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "otp_setup_required"
    # A wrong password still answers as a wrong password (nothing about the second factor).
    response = api_login(staff.email, WRONG)
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_api_non_staff_never_need_a_code(otp_on):
    user = UserFactory(email="pat@example.com")
    assert api_login(user.email, DEFAULT_PASSWORD).status_code == 200


def test_demo_admin_is_exempt_only_under_local(settings):
    settings.STAFF_OTP_REQUIRED = True
    demo = AdminFactory(email="admin@strathwell.demo")
    settings.APP_ENV = "local"
    assert api_login(demo.email, DEFAULT_PASSWORD).status_code == 200
    client = Client()
    client.force_login(demo)
    assert client.get("/admin/").status_code == 200
    for app_env in ("staging", "prod", "test"):
        settings.APP_ENV = app_env
        response = api_login(demo.email, DEFAULT_PASSWORD)
        assert response.status_code == 403, app_env
        assert client.get("/admin/").status_code == 302, app_env
    # Any other staff user needs a code under local too.
    settings.APP_ENV = "local"
    other = AdminFactory(email="ops@strathwell.test")
    assert api_login(other.email, DEFAULT_PASSWORD).status_code == 403


# --- TOTP: console -----------------------------------------------------------------------------


def test_console_first_sign_in_sets_up_an_authenticator(otp_on):
    staff = AdminFactory(email="ops@strathwell.test")
    client = Client()
    response = console_login(client, staff.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    # Signed in with the password only: nothing of the console is shown yet.
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/payments/payout/").status_code == 302
    setup = client.get("/admin/login/", follow=True)
    assert setup.redirect_chain[-1][0] == "/admin/otp/setup/"
    page = setup.content.decode()
    assert "<svg" in page and 'id="otp-secret"' in page

    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    wrong = client.post("/admin/otp/setup/", {"otp_token": "000000"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    unthrottle(device)  # django-otp pauses a device briefly after a wrong code
    done = client.post("/admin/otp/setup/", {"otp_token": code_for(device)})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    log = AuditLog.objects.get(action="staff.otp_enrolled")
    assert log.actor_id == staff.pk
    assert device.key not in str(log.after)


def test_console_sign_in_with_an_authenticator_needs_its_code(otp_on):
    staff = AdminFactory(email="ops@strathwell.test")
    device = confirmed_device(staff)
    client = Client()
    page = console_login(client, staff.email, DEFAULT_PASSWORD)
    assert page.status_code == 200 and "Enter the code" in page.content.decode()
    page = console_login(client, staff.email, DEFAULT_PASSWORD, otp_token="123456")
    assert page.status_code == 200 and "not valid" in page.content.decode()
    assert client.get("/admin/").status_code == 302

    unthrottle(device)
    signed_in = console_login(client, staff.email, DEFAULT_PASSWORD, otp_token=code_for(device))
    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_console_setup_page_is_only_for_staff_who_need_it(otp_on):
    staff = AdminFactory(email="ops@strathwell.test")
    confirmed_device(staff)
    client = Client()
    client.force_login(staff)
    # Already has an authenticator: no second one through this page.
    assert client.get("/admin/otp/setup/").status_code == 302
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    anonymous = Client()
    assert anonymous.get("/admin/otp/setup/").status_code == 302
    assert not TOTPDevice.objects.filter(confirmed=False).exists()


def test_removing_a_lost_authenticator_is_audited_and_never_shows_the_key(otp_on):
    superuser = AdminFactory(email="root@strathwell.test")
    root_device = confirmed_device(superuser)
    staff = AdminFactory(email="ops@strathwell.test")
    lost = confirmed_device(staff)
    client = Client()
    assert (
        console_login(
            client, superuser.email, DEFAULT_PASSWORD, otp_token=code_for(root_device)
        ).status_code
        == 302
    )
    page = client.get(f"/admin/otp_totp/totpdevice/{lost.pk}/change/")
    assert page.status_code == 200 and lost.key not in page.content.decode()
    response = client.post(f"/admin/otp_totp/totpdevice/{lost.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=lost.pk).exists()
    log = AuditLog.objects.get(action="admin.totpdevice.delete")
    assert log.actor_id == superuser.pk and lost.key not in str(log.before)
