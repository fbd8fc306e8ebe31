"""Staff least privilege: one permission map (`STAFF_OPERATIONS`) for the API's admin endpoints
and the console's actions, checked for every operation and every staff role.

The operations are discovered from the URL conf and the admin site, so an endpoint or action
added later without an entry in the map fails `test_every_admin_operation_is_in_the_map`."""

import re
import uuid

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.tests.factories import AdminFactory, UserFactory
from accounts.tokens import issue_tokens
from disputes.models import Dispute
from payments.models import Payout
from strathwell.api.permissions import STAFF_OPERATIONS, SUPERUSER, IsAdmin
from strathwell.console.tests import builders

pytestmark = pytest.mark.django_db

HANDLER_METHODS = ("get", "post", "put", "patch", "delete")


# --- discovering every admin operation -----------------------------------------------------------


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _concrete(route: str) -> str:
    path = re.sub(r"\(\?P<\w+>[^)]*\)", str(uuid.uuid4()), route)
    path = re.sub(r"<(?:\w+:)?\w+>", str(uuid.uuid4()), path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def api_operations() -> list[tuple[str, str, str | None, str | None]]:
    """(url, method, action, operation) of every request an IsAdmin view answers."""
    found = []
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        if view is None or IsAdmin not in getattr(view, "permission_classes", ()):
            continue
        operations = getattr(view, "staff_operations", {}) or {}
        actions = getattr(callback, "actions", None)
        if actions:  # a viewset route: method → action
            pairs = [
                (m, a)
                for m, a in actions.items()
                if m in HANDLER_METHODS and m in view.http_method_names
            ]
        else:
            pairs = [(m, None) for m in HANDLER_METHODS if hasattr(view, m)]
        for method, action in pairs:
            found.append((_concrete(route), method, action, operations.get(action or method)))
    return sorted(set(found), key=lambda item: (item[0], item[1]))


API_OPERATIONS = api_operations()


def console_actions() -> list[tuple[str, str, str]]:
    """(model label, action name, operation) of every confirm action of the console."""
    found = []
    for model, model_admin in admin.site._registry.items():
        for action in model_admin.actions or ():
            spec = getattr(action, "confirm_spec", None)
            if spec is not None:
                found.append((model._meta.label_lower, spec.name, spec.operation))
    return sorted(found)


CONSOLE_ACTIONS = console_actions()


def test_every_admin_operation_is_in_the_map():
    assert len(API_OPERATIONS) >= 30, API_OPERATIONS  # the discovery itself works
    unmapped = [(url, m) for url, m, _, op in API_OPERATIONS if op not in STAFF_OPERATIONS]
    assert unmapped == []
    assert len(CONSOLE_ACTIONS) >= 10
    assert all(op in STAFF_OPERATIONS for _, _, op in CONSOLE_ACTIONS)
    # Every permission named in the map exists.
    for needed in STAFF_OPERATIONS.values():
        for perm in needed:
            if perm != SUPERUSER:
                app_label, codename = perm.split(".")
                assert Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                ).exists(), perm


def test_the_findings_money_operations_need_their_change_permission():
    assert STAFF_OPERATIONS["payout.approve"] == ("payments.change_payout",)
    assert STAFF_OPERATIONS["dispute.decide"] == ("disputes.change_dispute",)
    ops = {(url.split("/")[-1], method): op for url, method, _, op in API_OPERATIONS}
    assert ops[("approve", "post")] in {"payout.approve", "vendor.approve"}


# --- roles -------------------------------------------------------------------------------------

VIEW_ALL = "view_all"


def _perms(names):
    perms = []
    for name in names:
        if name == VIEW_ALL:
            perms.extend(
                Permission.objects.filter(
                    codename__startswith="view_",
                    content_type__app_label__in=[
                        "accounts",
                        "audit",
                        "uploads",
                        "trust",
                        "vendors",
                        "templates_app",
                        "bookings",
                        "payments",
                        "disputes",
                    ],
                )
            )
        else:
            app_label, codename = name.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return perms


ROLES = {
    "superuser": {"superuser": True},
    "staff-no-permissions": {"staff": True, "perms": []},
    "view-only-staff": {"staff": True, "perms": [VIEW_ALL]},
    "payout-staff": {
        "staff": True,
        "perms": ["payments.view_payout", "payments.change_payout"],
    },
    "dispute-staff": {
        "staff": True,
        "perms": ["disputes.view_dispute", "disputes.change_dispute"],
    },
    "catalogue-staff": {
        "staff": True,
        "perms": [
            "vendors.view_vendor",
            "vendors.change_vendor",
            "templates_app.view_template",
            "templates_app.add_template",
            "templates_app.change_template",
        ],
    },
    "not-staff-with-every-permission": {"staff": False, "perms": [VIEW_ALL, "all-change"]},
}


def make_user(role: str):
    spec = ROLES[role]
    if spec.get("superuser"):
        return AdminFactory(email=f"{role}@strathwell.test")
    user = UserFactory(email=f"{role}@strathwell.test", is_staff=spec["staff"], role="admin")
    names = [p for p in spec["perms"] if p != "all-change"]
    perms = _perms(names)
    if "all-change" in spec["perms"]:
        perms += list(Permission.objects.exclude(codename__startswith="view_"))
    user.user_permissions.set(perms)
    return user


def role_perms(role: str, user) -> set[str]:
    return set() if ROLES[role].get("superuser") else user.get_all_permissions()


def expected_allowed(role: str, user, operation: str) -> bool:
    spec = ROLES[role]
    if spec.get("superuser"):
        return True
    if not spec["staff"]:
        return False
    needed = STAFF_OPERATIONS[operation]
    return SUPERUSER not in needed and set(needed) <= role_perms(role, user)


# --- the API matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ROLES))
def test_api_matrix_every_role_times_every_admin_operation(role):
    user = make_user(role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
    wrong = []
    for url, method, _action, operation in API_OPERATIONS:
        response = getattr(client, method)(url, {}, format="json")
        allowed = expected_allowed(role, user, operation)
        refused = response.status_code == 403 and (
            response.json()["error"]["code"] == "permission_denied"
        )
        if allowed == refused or response.status_code == 401:
            wrong.append((method.upper(), url, operation, response.status_code))
    assert wrong == [], f"{role}: {wrong}"


def test_view_only_staff_cannot_approve_a_payout_or_decide_a_dispute_through_the_api():
    """The finding: refused in the console, the same user could do it through the API."""
    viewer = make_user("view-only-staff")
    payout = builders.eligible_payout()
    dispute = builders.open_dispute()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(viewer)['access']}")

    assert client.get(f"/api/v1/admin/payouts/{payout.pk}").status_code == 200
    response = client.post(
        f"/api/v1/admin/payouts/{payout.pk}/approve",
        {"reason": "ok"},
        format="json",
        HTTP_X_CONFIRM_ACTION="true",
    )
    assert response.status_code == 403
    response = client.patch(
        f"/api/v1/admin/disputes/{dispute.pk}",
        {"status": "under_review", "resolution_note": "looking"},
        format="json",
    )
    assert response.status_code == 403
    payout.refresh_from_db()
    dispute.refresh_from_db()
    assert payout.status == Payout.Status.ELIGIBLE
    assert dispute.status == Dispute.Status.OPEN

    # The permission the console asks for is what the API asks for too.
    approver = make_user("payout-staff")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(approver)['access']}")
    response = client.post(
        f"/api/v1/admin/payouts/{payout.pk}/approve",
        {"reason": "ok"},
        format="json",
        HTTP_X_CONFIRM_ACTION="true",
    )
    assert response.status_code == 200, response.json()
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID


def test_staff_reads_outside_admin_paths_follow_the_same_permissions():
    """GET /bookings and GET /payments/{id} widen to every row only with the view permission."""
    payment = builders.paid_payment()
    nobody = make_user("staff-no-permissions")
    viewer = make_user("view-only-staff")
    for user, visible in ((nobody, False), (viewer, True)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user)['access']}")
        bookings = client.get("/api/v1/bookings").json()
        assert (bookings["count"] > 0) is visible
        status = client.get(f"/api/v1/payments/{payment.pk}").status_code
        assert status == (200 if visible else 404)


# --- the console matrix ------------------------------------------------------------------------


def offered_actions(user, label) -> set[str]:
    """The actions the console offers this user on the model's changelist (what the action
    select lists and what `response_action` accepts)."""
    request = RequestFactory().get("/admin/")
    request.user = user
    model_admin = admin.site._registry[apps.get_model(label)]
    return set(model_admin.get_actions(request))


@pytest.mark.parametrize("role", sorted(ROLES))
def test_console_matrix_every_role_times_every_confirm_action(role):
    user = make_user(role)
    wrong = []
    for label, name, operation in CONSOLE_ACTIONS:
        offered = name in offered_actions(user, label)
        if offered != expected_allowed(role, user, operation):
            wrong.append((label, name, operation, offered))
    assert wrong == [], f"{role}: {wrong}"


def test_console_refuses_a_posted_action_the_user_may_not_run():
    viewer = make_user("view-only-staff")
    payout = builders.eligible_payout()
    client = Client()
    client.force_login(viewer)
    page = client.get("/admin/payments/payout/").content.decode()
    assert 'value="approve_payouts"' not in page and "payout" in page
    response = client.post(
        "/admin/payments/payout/",
        {
            "action": "approve_payouts",
            "_selected_action": [payout.pk],
            "post": "yes",
            "reason": "sneaky",
        },
        follow=True,
    )
    assert response.status_code == 200
    payout.refresh_from_db()
    assert payout.status == Payout.Status.ELIGIBLE
