"""Every confirm action of the console, through Django's test client: the confirmation page,
confirming without a reason (refused), confirming (state changed, audit row with the staff
actor and the reason), an illegal selection (a message, nothing changed, no 500) and
READ_ONLY_MODE (refused with a message)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import escape

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from disputes.models import Dispute
from payments import services as money
from payments.models import LedgerEntry, Payment, Payout, WebhookEvent
from strathwell.audit.models import AuditLog
from strathwell.console.tests import builders
from vendors.models import Vendor
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _refunds_through_localstripe(stripe_local):
    """Canceling a paid booking refunds it through Stripe: payments here are real
    PaymentIntents on localstripe."""


@dataclass(frozen=True)
class Case:
    id: str
    action: str
    make: Callable  # (staff) -> an object the action applies to
    make_illegal: Callable  # (staff) -> an object the action must refuse
    data: dict  # a valid confirmation form
    state_field: str
    expected: str  # state_field after a successful action
    audit_action: str
    required: str = "reason"  # the required text field of the form
    audit_reason: str | None = None  # default: data[required]
    extra: dict = field(default_factory=dict)


def _pending_vendor(staff):
    return VendorFactory(verification_status=Vendor.VerificationStatus.PENDING)


def _approved_vendor(staff):
    return VendorFactory()


def _failed_event(staff):
    return builders.failed_success_event()[0]


def _under_review(staff):
    dispute = builders.open_dispute()
    return money.change_dispute_status(
        dispute, actor=staff, status=Dispute.Status.UNDER_REVIEW, note="looking"
    )


CASES = [
    Case(
        id="vendor-approve",
        action="approve_vendors",
        make=_pending_vendor,
        make_illegal=_approved_vendor,
        data={"reason": "Licence and photos checked"},
        state_field="verification_status",
        expected="approved",
        audit_action="vendor.approve",
    ),
    Case(
        id="vendor-needs-changes",
        action="request_vendor_changes",
        make=_pending_vendor,
        make_illegal=_approved_vendor,
        data={"notes": "Add photos of the main hall"},
        required="notes",
        state_field="verification_status",
        expected="needs_changes",
        audit_action="vendor.request_changes",
    ),
    Case(
        id="payout-approve",
        action="approve_payouts",
        make=lambda staff: builders.eligible_payout(),
        make_illegal=lambda staff: builders.locked_payout(),
        data={"reason": "Venue confirmed the reservation"},
        state_field="status",
        expected="paid",
        audit_action="payout.approve",
    ),
    Case(
        id="payout-hold",
        action="hold_payouts",
        make=lambda staff: builders.eligible_payout(),
        make_illegal=builders.paid_out_payout,
        data={"reason": "Organizer reported a problem"},
        state_field="status",
        expected="held",
        audit_action="payout.hold",
    ),
    Case(
        id="payout-release",
        action="release_payouts",
        make=builders.held_payout,
        make_illegal=lambda staff: builders.locked_payout(),
        data={"reason": "Problem cleared up"},
        state_field="status",
        expected="eligible",
        audit_action="payout.release",
    ),
    Case(
        id="payout-reverse",
        action="reverse_payouts",
        make=builders.held_payout,
        make_illegal=builders.paid_out_payout,
        data={"reason": "Event did not happen"},
        state_field="status",
        expected="reversed",
        audit_action="payout.reverse",
    ),
    Case(
        id="booking-cancel",
        action="cancel_bookings",
        make=lambda staff: builders.paid_booking(),
        make_illegal=lambda staff: BookingFactory(status=Booking.Status.COMPLETED),
        data={"reason": "Venue flooded"},
        state_field="status",
        expected="canceled",
        audit_action="booking.admin_cancel",
    ),
    Case(
        id="booking-force-complete",
        action="force_complete_bookings",
        make=lambda staff: builders.paid_booking(),
        make_illegal=lambda staff: BookingFactory(status=Booking.Status.DRAFT),
        data={"reason": "Event took place; organizer unreachable"},
        state_field="status",
        expected="completed",
        audit_action="booking.force_complete",
    ),
    Case(
        id="dispute-status",
        action="change_dispute_status",
        make=_under_review,
        make_illegal=lambda staff: builders.resolved_dispute(staff),
        data={"new_status": "resolved", "reason": "Vendor refunded the difference"},
        state_field="status",
        expected="resolved",
        audit_action="dispute.resolve",
    ),
    Case(
        id="webhook-replay",
        action="replay_webhook_events",
        make=_failed_event,
        make_illegal=lambda staff: builders.processed_event(),
        data={"reason": "Database is back"},
        state_field="outcome",
        expected="processed",
        audit_action="admin.webhookevent.replay",
    ),
]


def model_of(obj):
    return type(obj)


def changelist(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def go(client, case, objs):
    """The changelist POST: objects ticked, action chosen, "Go"."""
    return client.post(
        changelist(objs[0]),
        {"action": case.action, "_selected_action": [str(o.pk) for o in objs], "index": 0},
    )


def confirm(client, case, objs, data):
    """The confirmation page's POST."""
    return client.post(
        changelist(objs[0]),
        {
            "action": case.action,
            "_selected_action": [str(o.pk) for o in objs],
            "post": "yes",
            **data,
        },
        follow=True,
    )


def state(obj, case):
    return getattr(type(obj)._base_manager.get(pk=obj.pk), case.state_field)


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def audit_rows(obj):
    return AuditLog.objects.filter(target_id=str(obj.pk))


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request):
    return request.param


def test_confirmation_page_lists_objects_and_asks_for_a_reason(staff, staff_client, case):
    objs = [case.make(staff), case.make(staff)]
    before = [state(o, case) for o in objs]
    audit_before = AuditLog.objects.count()

    response = go(staff_client, case, objs)

    assert response.status_code == 200
    assert "admin/console/confirm_action.html" in [t.name for t in response.templates]
    html = response.content.decode()
    for obj in objs:
        assert f'name="_selected_action" value="{obj.pk}"' in html
    assert f'name="action" value="{case.action}"' in html
    assert 'name="post" value="yes"' in html
    assert f'name="{case.required}"' in html and "<textarea" in html
    assert escape(response.context["spec"].effect) in html
    assert [state(o, case) for o in objs] == before
    assert AuditLog.objects.count() == audit_before


def test_confirming_without_a_reason_is_refused(staff, staff_client, case):
    obj = case.make(staff)
    before = state(obj, case)
    audit_before = AuditLog.objects.count()

    response = confirm(staff_client, case, [obj], {**case.data, case.required: "   "})

    assert response.status_code == 200
    assert response.context["form"].errors[case.required] == ["This field is required."]
    assert "This field is required." in response.content.decode()
    assert state(obj, case) == before
    assert AuditLog.objects.count() == audit_before


def test_confirming_acts_and_audits_with_the_staff_actor(staff, staff_client, case):
    obj = case.make(staff)

    response = confirm(staff_client, case, [obj], case.data)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == changelist(obj)
    assert state(obj, case) == case.expected
    row = audit_rows(obj).filter(action=case.audit_action).get()
    assert row.actor == staff
    assert row.actor_email == staff.email
    assert row.reason == (case.audit_reason or case.data[case.required])
    levels = messages_of(response)
    assert [lvl for lvl, _ in levels] == ["success"], levels


def test_illegal_selection_is_a_message_and_changes_nothing(staff, staff_client, case):
    illegal = case.make_illegal(staff)
    before = state(illegal, case)
    rows_before = audit_rows(illegal).count()

    response = confirm(staff_client, case, [illegal], case.data)

    assert response.status_code == 200
    assert state(illegal, case) == before
    assert audit_rows(illegal).count() == rows_before
    (level, text), *_ = messages_of(response)
    assert level in ("error", "warning")
    assert "nothing" in text.lower() or "could not" in text.lower(), text


def test_mixed_selection_reports_each_object(staff, staff_client, case):
    good, bad = case.make(staff), case.make_illegal(staff)
    bad_before = state(bad, case)

    response = confirm(staff_client, case, [good, bad], case.data)

    assert state(good, case) == case.expected
    assert state(bad, case) == bad_before
    levels = sorted(level for level, _ in messages_of(response))
    assert levels in (["error", "success"], ["success", "warning"]), levels


def test_read_only_mode_refuses_the_action(staff, staff_client, case, read_only):
    obj = case.make(staff)
    before = state(obj, case)
    audit_before = AuditLog.objects.count()

    first = staff_client.post(
        changelist(obj),
        {"action": case.action, "_selected_action": [str(obj.pk)], "index": 0},
        follow=True,
    )
    response = confirm(staff_client, case, [obj], case.data)

    for page in (first, response):
        assert page.status_code == 200
        assert "admin/console/confirm_action.html" not in [t.name for t in page.templates]
        assert any(
            level == "error" and "Read-only mode" in text for level, text in messages_of(page)
        )
    assert state(obj, case) == before
    assert AuditLog.objects.count() == audit_before


# --- effects beyond the state field ------------------------------------------------------------


def test_approve_payout_writes_its_ledger_entry(staff, staff_client):
    payout = builders.eligible_payout()
    case = next(c for c in CASES if c.id == "payout-approve")

    confirm(staff_client, case, [payout], case.data)

    entry = LedgerEntry.objects.get(payout=payout)
    assert entry.entry_type == LedgerEntry.EntryType.PAYOUT
    assert entry.amount_cents == payout.amount_cents


def test_approve_is_refused_while_a_dispute_is_open(staff, staff_client):
    payout = builders.eligible_payout()
    Dispute.objects.create(booking=payout.booking, opened_by=payout.booking.organizer, reason="x")
    case = next(c for c in CASES if c.id == "payout-approve")

    response = confirm(staff_client, case, [payout], case.data)

    payout.refresh_from_db()
    assert payout.status == Payout.Status.ELIGIBLE
    assert not LedgerEntry.objects.filter(payout=payout).exists()
    [(level, text)] = messages_of(response)
    assert level == "error" and "dispute" in text


def test_a_repeat_is_reported_as_unchanged(staff, staff_client):
    payout = builders.paid_out_payout(staff)
    case = next(c for c in CASES if c.id == "payout-approve")

    response = confirm(staff_client, case, [payout], case.data)

    [(level, text)] = messages_of(response)
    assert level == "warning" and "already Paid" in text
    assert LedgerEntry.objects.filter(payout=payout).count() == 1


def test_replay_applies_the_payment_of_a_failed_event(staff, staff_client):
    event, payment = builders.failed_success_event()
    case = next(c for c in CASES if c.id == "webhook-replay")

    confirm(staff_client, case, [event], case.data)

    event.refresh_from_db()
    payment.refresh_from_db()
    assert event.outcome == WebhookEvent.Outcome.PROCESSED and event.attempts == 2
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.booking.status == Booking.Status.PAID
    assert Payout.objects.filter(payment=payment).count() == 4


def test_force_replays_an_event_already_handled(staff, staff_client):
    event = builders.processed_event()
    case = next(c for c in CASES if c.id == "webhook-replay")

    response = confirm(staff_client, case, [event], {**case.data, "force": "on"})

    event.refresh_from_db()
    assert event.attempts == 2 and event.outcome == WebhookEvent.Outcome.IGNORED
    assert [lvl for lvl, _ in messages_of(response)] == ["success"]
    assert audit_rows(event).filter(action="admin.webhookevent.replay").count() == 1


def test_dispute_status_form_offers_only_next_statuses(staff, staff_client):
    dispute = builders.open_dispute()
    case = next(c for c in CASES if c.id == "dispute-status")

    response = go(staff_client, case, [dispute])

    choices = [value for value, _ in response.context["form"].fields["new_status"].choices]
    assert choices == ["under_review", "resolved", "refunded", "adjusted"]
    # open → resolved skips the review: refused by the model, with its message.
    response = confirm(staff_client, case, [dispute], case.data)
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN
    [(level, text)] = messages_of(response)
    assert level == "error" and "cannot go from open to resolved" in text


def test_actions_need_the_models_change_permission(staff_client, case, staff, django_user_model):
    from django.contrib.auth.models import Permission
    from django.test import Client

    obj = case.make(staff)
    viewer = django_user_model.objects.create_user(
        "viewer@strathwell.test", "pw-Viewer-123", is_staff=True
    )
    opts = obj._meta
    viewer.user_permissions.add(
        Permission.objects.get(
            codename=f"view_{opts.model_name}", content_type__app_label=opts.app_label
        )
    )
    client = Client()
    client.force_login(viewer)

    page = client.get(changelist(obj))
    response = confirm(client, case, [obj], case.data)

    assert page.status_code == 200
    action_form = page.context["action_form"]
    assert action_form is None or case.action not in dict(action_form.fields["action"].choices)
    assert state(obj, case) != case.expected
    assert response.status_code == 200
