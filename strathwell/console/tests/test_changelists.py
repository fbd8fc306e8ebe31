"""Every model has a ModelAdmin; every changelist runs a constant number of queries (pinned at
two sizes), and every change page renders."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from strathwell.console.tests.builders import BULK_BUILDERS

pytestmark = pytest.mark.django_db

PROJECT_APPS = (
    "accounts",
    "trust",
    "audit",
    "uploads",
    "vendors",
    "templates_app",
    "bookings",
    "payments",
    "disputes",
    "jobs",
    "notifications",
)
SMALL, LARGE = 3, 100

# Queries of one changelist page (session + user, count(s), the page, filters' choices...),
# the same at 3 rows and at 100 rows.
PINNED = {
    "accounts.user": 7,
    "accounts.refreshtoken": 7,
    "accounts.subscription": 7,
    "auth.group": 5,
    "audit.auditlog": 10,  # + the actor filter, + one query per target type on the page
    "vendors.vendor": 8,
    "vendors.venueprofile": 8,
    "vendors.serviceprofile": 9,
    "vendors.vendordateunit": 7,
    "templates_app.template": 9,
    "templates_app.templateitem": 8,
    "uploads.upload": 8,
    "bookings.booking": 8,
    "bookings.bookingvendor": 7,
    "payments.payment": 8,
    "payments.payout": 9,  # + the vendor filter's choices
    "payments.ledgerentry": 8,
    "payments.allocation": 8,
    "payments.ledgeraccount": 6,
    "payments.ledgerleg": 5,
    "payments.refund": 8,
    "payments.refundline": 5,
    "payments.idempotencyrecord": 9,
    "payments.webhookevent": 8,
    "disputes.dispute": 7,
    "trust.moderationevent": 7,
    "otp_totp.totpdevice": 5,
    "jobs.outboxmessage": 7,
    "notifications.notification": 6,
}


def changelist_url(label):
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_changelist")


def test_every_project_model_has_a_model_admin():
    missing = [
        model._meta.label
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models()
        if model not in admin.site._registry
    ]
    assert missing == []
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered <= set(PINNED) | {"auth.group"}
    assert set(PINNED) <= registered


def rendered_queries(client, label):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(changelist_url(label))
    assert response.status_code == 200, label
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("label", sorted(PINNED))
def test_changelist_query_count_is_constant(staff_client, label):
    model = apps.get_model(label)
    BULK_BUILDERS[label](SMALL)
    small, _ = rendered_queries(staff_client, label)
    BULK_BUILDERS[label](LARGE - SMALL)
    assert model.objects.count() >= LARGE
    large, response = rendered_queries(staff_client, label)
    assert len(response.context["cl"].result_list) == LARGE
    assert (small, large) == (PINNED[label], PINNED[label])


@pytest.mark.parametrize("label", sorted(PINNED))
def test_change_page_renders(staff_client, label):
    model = apps.get_model(label)
    BULK_BUILDERS[label](1)
    obj = model.objects.order_by("pk").last()
    app_label, model_name = label.split(".")
    response = staff_client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))
    assert response.status_code == 200
