"""`remind_balance_due`: one reminder at `balance_due_on` and one on the event's eve while a
balance is owed — once each, however often the job runs; none once the balance is paid."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from bookings.models import Booking
from notifications.models import Notification
from payments.tests.factories import pay_balance, succeeded_payment

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("run_periodic", "remind_balance_due", stdout=out)
    return out.getvalue()


def on(day: datetime.date):
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
    return time_machine.travel(noon)


def reminders(booking):
    return list(
        Notification.objects.filter(booking_id=booking.pk, kind="balance_due").values_list(
            "recipient_id", flat=True
        )
    )


def test_a_reminder_on_the_due_date_and_on_the_eve_each_once():
    booking = Booking.objects.get(pk=succeeded_payment().booking_id)
    assert booking.balance_cents > 0
    due, eve = booking.balance_due_on, booking.event_date - datetime.timedelta(days=1)

    with on(due - datetime.timedelta(days=1)):
        run()
    assert reminders(booking) == []
    with on(due):
        run()
        run()  # again the same day, or a second machine: nobody is told twice
    assert reminders(booking) == [booking.organizer_id]
    with on(eve):
        run()
    assert reminders(booking) == [booking.organizer_id] * 2
    body = Notification.objects.filter(kind="balance_due").latest("created_at").body
    assert "tomorrow" in body


def test_no_reminder_once_the_balance_is_paid():
    booking = Booking.objects.get(pk=succeeded_payment().booking_id)
    pay_balance(booking)
    booking.refresh_from_db()
    assert booking.balance_cents == 0
    with on(booking.balance_due_on):
        run()
    assert reminders(booking) == []
