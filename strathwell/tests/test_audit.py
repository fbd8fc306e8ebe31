import pytest
from django.db import DatabaseError, connection, transaction

from accounts.tests.factories import AdminFactory, UserFactory
from strathwell.audit.models import AuditLog
from strathwell.audit.services import audited_change, mask_secrets, snapshot, write_audit_log

pytestmark = pytest.mark.django_db


def make_row():
    admin = AdminFactory()
    target = UserFactory(full_name="Before")
    with (
        transaction.atomic(),
        audited_change(target, actor=admin, action="user.rename", reason="typo"),
    ):
        target.full_name = "After"
        target.save(update_fields=["full_name"])
    return AuditLog.objects.get(action="user.rename"), admin, target


def test_audited_change_records_before_after_actor_and_reason():
    log, admin, target = make_row()
    assert log.actor == admin
    assert log.actor_email == admin.email
    assert log.target_type == "accounts.user" and log.target_id == str(target.id)
    assert log.before["full_name"] == "Before"
    assert log.after["full_name"] == "After"
    assert log.before["password"] == "***" and log.after["password"] == "***"
    assert log.reason == "typo"


def test_audited_delete_records_after_none():
    admin = AdminFactory()
    target = UserFactory()
    pk = target.pk
    with transaction.atomic(), audited_change(target, actor=admin, action="user.delete"):
        target.delete()
    log = AuditLog.objects.get(action="user.delete")
    assert log.target_id == str(pk)
    assert log.after is None and log.before["id"] == str(pk)


def test_failed_change_writes_no_audit_row():
    admin = AdminFactory()
    target = UserFactory(full_name="Before")
    with pytest.raises(RuntimeError), transaction.atomic():
        with audited_change(target, actor=admin, action="user.rename"):
            target.full_name = "After"
            target.save(update_fields=["full_name"])
            raise RuntimeError("boom")
    target.refresh_from_db()
    assert target.full_name == "Before"
    assert not AuditLog.objects.exists()


def test_orm_refuses_update_and_delete():
    log, _, _ = make_row()
    log.reason = "rewritten"
    with pytest.raises(PermissionError):
        log.save()
    with pytest.raises(PermissionError):
        log.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=log.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get(pk=log.pk).reason == "typo"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_auditlog SET reason = 'rewritten'", "DELETE FROM audit_auditlog"],
)
def test_database_trigger_refuses_raw_update_and_delete(sql):
    log, _, _ = make_row()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditLog.objects.get(pk=log.pk).reason == "typo"


def test_mask_secrets_is_recursive():
    masked = mask_secrets(
        {"password": "p", "nested": {"client_secret": "cs", "plain": 1}, "list": [{"token": "t"}]}
    )
    assert masked == {
        "password": "***",
        "nested": {"client_secret": "***", "plain": 1},
        "list": [{"token": "***"}],
    }


def test_mask_secrets_masks_session_tokens():
    # The auth endpoints' body shape {user, access, refresh}: the JWTs are credentials.
    masked = mask_secrets(
        {"user": {"email": "a@b.c"}, "access": "eyJ.a", "refresh": "eyJ.b", "Authorization": "x"}
    )
    assert masked == {
        "user": {"email": "a@b.c"},
        "access": "***",
        "refresh": "***",
        "Authorization": "***",
    }


def test_snapshot_is_json_safe():
    user = UserFactory()
    data = snapshot(user)
    assert data["id"] == str(user.id)
    assert isinstance(data["date_joined"], str)


@pytest.mark.django_db
def test_a_periodic_jobs_change_is_audited_as_system(admin_client_api):
    from strathwell.system import SYSTEM

    write_audit_log(actor=SYSTEM, action="booking.expire", target=("bookings.booking", "b1"))
    write_audit_log(actor=None, action="payment.succeed", target=("payments.payment", "p1"))
    row = AuditLog.objects.get(action="booking.expire")
    assert (row.actor_id, row.actor_email) == (None, "system")
    body = admin_client_api.get("/api/v1/admin/audit-logs?actor_email=system").json()
    assert [r["action"] for r in body["results"]] == ["booking.expire"]
    assert body["results"][0]["actor"] == {"id": None, "email": "system"}
    stripe = admin_client_api.get("/api/v1/admin/audit-logs?action=payment.succeed").json()
    assert stripe["results"][0]["actor"] is None  # no actor at all (a Stripe event)
