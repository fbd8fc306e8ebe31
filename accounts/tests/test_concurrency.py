"""Subscription changes of the manual provider racing each other: real threads, one database
connection each.

Every change locks the subscription row (`accounts.locks.lock_subscription`), so they are
serialized; what the tests pin down is that the final row always agrees with the last audited
change and that each applied change is audited exactly once (a refused or no-op change writes
nothing). The Stripe provider's races are in test_billing_stripe.py."""

import pytest

from accounts import billing
from accounts.models import Subscription, User
from accounts.tests.factories import OrganizerFactory
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition
from strathwell.testing.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)

ACTIVE, CANCELED = Subscription.Status.ACTIVE, Subscription.Status.CANCELED
MONTHLY, ANNUAL = Subscription.Plan.MONTHLY, Subscription.Plan.ANNUAL


def start(user, plan):
    return lambda: billing.start_subscription(User.objects.get(pk=user.pk), plan=plan).subscription


def cancel(user):
    return lambda: billing.cancel_subscription(User.objects.get(pk=user.pk))


def subscription_audit(user):
    rows = AuditLog.objects.filter(target_type="accounts.subscription", target_id=str(user.pk))
    return list(rows.order_by("created_at", "id").values("action", "after"))


def assert_row_matches_last_audit(user, audit):
    sub = Subscription.objects.get(pk=user.pk)
    last = audit[-1]["after"]
    assert sub.status == last["status"]
    if sub.status == ACTIVE:
        assert sub.plan == last["plan"]
        assert sub.canceled_at is None
        assert sub.started_at is not None
    else:
        assert sub.canceled_at is not None


@pytest.mark.parametrize("attempt", range(3))
def test_plan_switch_racing_a_cancel_applies_both_in_one_order(attempt):
    user = OrganizerFactory(subscribed=True)  # active, monthly

    started, canceled = run_together(start(user, ANNUAL), cancel(user))

    # Both are legal in either order (switch, then cancel; or cancel, then start afresh).
    assert isinstance(started, Subscription), started
    assert isinstance(canceled, Subscription), canceled
    audit = subscription_audit(user)
    actions = [row["action"] for row in audit]
    assert sorted(actions) == ["subscription.cancel", "subscription.start"]
    assert_row_matches_last_audit(user, audit)
    sub = Subscription.objects.get(pk=user.pk)
    if actions[-1] == "subscription.start":
        assert sub.status == ACTIVE and sub.plan == ANNUAL
    else:
        assert sub.status == CANCELED


@pytest.mark.parametrize("attempt", range(3))
def test_first_start_racing_a_cancel_never_cancels_nothing(attempt):
    user = OrganizerFactory()  # no subscription yet

    started, canceled = run_together(start(user, MONTHLY), cancel(user))

    assert isinstance(started, Subscription), started
    audit = subscription_audit(user)
    if isinstance(canceled, InvalidTransition):  # cancel first: nothing to cancel, no row
        assert canceled.status_code == 409
        assert [row["action"] for row in audit] == ["subscription.start"]
    else:  # start first, then the cancel applied to it
        assert isinstance(canceled, Subscription), canceled
        assert [row["action"] for row in audit] == ["subscription.start", "subscription.cancel"]
    assert_row_matches_last_audit(user, audit)


def test_concurrent_starts_of_the_same_plan_audit_once():
    user = OrganizerFactory()

    outcomes = run_together(*[start(user, MONTHLY)] * 4)

    assert all(isinstance(o, Subscription) for o in outcomes), outcomes
    audit = subscription_audit(user)
    assert [row["action"] for row in audit] == ["subscription.start"]  # the rest were no-ops
    assert_row_matches_last_audit(user, audit)
