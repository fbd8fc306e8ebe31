"""Sending a notification's email: the outbox handler of `notifications.email`.

Runs in the worker (or in process without a broker), holding the outbox row's lock, after the
transaction that wrote the notification committed. Plain-text and HTML bodies from the
templates `notifications/email/<kind>.{txt,html}` (falling back to `notification.{txt,html}`),
sent through Django's email framework (`EMAIL_URL`). The Message-ID is derived from the
notification's id, so a resend after a crash is recognisable as the same message.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Notification
from notifications.services import EMAIL_TOPIC, safe
from strathwell.jobs.outbox import outbox_handler


def message_id(notification: Notification) -> str:
    return f"<{notification.pk}@notifications.strathwell>"


def render_email(notification: Notification) -> EmailMultiAlternatives:
    """The email of a notification, ready to send to its recipient."""
    context = {
        "notification": notification,
        "name": safe(notification.recipient.full_name),
        "title": notification.title,
        "body": notification.body,
    }
    kind = notification.kind
    text = render_to_string(
        [f"notifications/email/{kind}.txt", "notifications/email/notification.txt"], context
    )
    html = render_to_string(
        [f"notifications/email/{kind}.html", "notifications/email/notification.html"], context
    )
    email = EmailMultiAlternatives(
        subject=f"{settings.EMAIL_SUBJECT_PREFIX}{notification.title}",
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
        headers={
            "Message-ID": message_id(notification),
            "X-Strathwell-Notification": kind,
        },
    )
    email.attach_alternative(html, "text/html")
    return email


@outbox_handler(EMAIL_TOPIC)
def send_notification_email(message) -> None:
    """Send the email of `message.payload["notification_id"]` (raises on an SMTP failure: the
    outbox retries it with a backoff). A notification whose user is gone or inactive owes
    nothing."""
    notification = (
        Notification.objects.select_related("recipient")
        .filter(pk=message.payload.get("notification_id"))
        .first()
    )
    if notification is None:
        return
    user = notification.recipient
    if not user.is_active or not user.email:
        return
    render_email(notification).send(fail_silently=False)
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
