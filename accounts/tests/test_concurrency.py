"""Subscription changes racing each other: real threads, one database connection each.

Both transitions lock the user row, so they are serialized; what the tests pin down is that
the final row always agrees with the last audited change and that each applied change is
audited exactly once (a refused or no-op change writes nothing)."""

import pytest

from accounts.models import User
from accounts.tests.factories import OrganizerFactory
from strathwell.audit.models import AuditLog
from strathwell.exceptions import InvalidTransition
from strathwell.testing.threads import run_together

pytestmark = pytest.mark.django_db(transaction=True)

ACTIVE, CANCELED = User.SubscriptionStatus.ACTIVE, User.SubscriptionStatus.CANCELED


def subscription_audit(user):
    rows = AuditLog.objects.filter(target_type="accounts.user", target_id=str(user.pk))
    return list(rows.order_by("created_at", "id").values("action", "after"))


def assert_row_matches_last_audit(user, audit):
    user.refresh_from_db()
    last = audit[-1]["after"]
    assert user.subscription_status == last["subscription_status"]
    if user.subscription_status == ACTIVE:
        assert user.subscription_plan == last["plan"]
        assert user.subscription_canceled_at is None
        assert user.subscription_started_at is not None
    else:
        assert user.subscription_canceled_at is not None


@pytest.mark.parametrize("attempt", range(3))
def test_plan_switch_racing_a_cancel_applies_both_in_one_order(attempt):
    user = OrganizerFactory(subscribed=True)  # active, monthly

    start, cancel = run_together(
        lambda: User.objects.get(pk=user.pk).start_subscription(plan=User.Plan.ANNUAL),
        lambda: User.objects.get(pk=user.pk).cancel_subscription(),
    )

    # Both are legal in either order (switch, then cancel; or cancel, then start afresh).
    assert isinstance(start, User), start
    assert isinstance(cancel, User), cancel
    audit = subscription_audit(user)
    actions = [row["action"] for row in audit]
    assert sorted(actions) == ["subscription.cancel", "subscription.start"]
    assert_row_matches_last_audit(user, audit)
    if actions[-1] == "subscription.start":
        assert user.subscription_status == ACTIVE and user.subscription_plan == User.Plan.ANNUAL
    else:
        assert user.subscription_status == CANCELED


@pytest.mark.parametrize("attempt", range(3))
def test_first_start_racing_a_cancel_never_cancels_nothing(attempt):
    user = OrganizerFactory()  # no subscription yet

    start, cancel = run_together(
        lambda: User.objects.get(pk=user.pk).start_subscription(plan=User.Plan.MONTHLY),
        lambda: User.objects.get(pk=user.pk).cancel_subscription(),
    )

    assert isinstance(start, User), start
    audit = subscription_audit(user)
    if isinstance(cancel, InvalidTransition):  # cancel first: nothing to cancel, no row
        assert cancel.status_code == 409
        assert [row["action"] for row in audit] == ["subscription.start"]
    else:  # start first, then the cancel applied to it
        assert isinstance(cancel, User), cancel
        assert [row["action"] for row in audit] == ["subscription.start", "subscription.cancel"]
    assert_row_matches_last_audit(user, audit)


def test_concurrent_starts_of_the_same_plan_audit_once():
    user = OrganizerFactory()

    outcomes = run_together(
        *[lambda: User.objects.get(pk=user.pk).start_subscription(plan=User.Plan.MONTHLY)] * 4
    )

    assert all(isinstance(o, User) for o in outcomes), outcomes
    audit = subscription_audit(user)
    assert [row["action"] for row in audit] == ["subscription.start"]  # the rest were no-ops
    assert_row_matches_last_audit(user, audit)
