"""The one place accounts talk to Stripe Billing (the official `stripe` library).

Calls: the organizer's Customer, its default payment method, the subscription (create, read,
cancel at the period's end or now) and the catalog `manage.py stripe_setup` makes. Every call is
made with no row lock held (the flows in `accounts.billing` make sure of it), carries an
idempotency key when it creates or changes something, and is pinned to one Stripe API version,
`STRIPE_BILLING_API_VERSION`, whose object shapes the local Stripe stand-in (localstripe)
mirrors: `subscription.current_period_end` and `invoice.payment_intent`. Webhook payloads come in
the webhook endpoint's own version, so the parsers read the newer shapes too (the period end on
the subscription's items, the subscription id under `invoice.parent`).

Plans, not Prices: localstripe has no Price API, and Stripe accepts a plan id wherever a price
is expected (and a price id as `items[].plan`), so `STRIPE_PRICE_MONTHLY`/`STRIPE_PRICE_ANNUAL`
hold plan ids made by `stripe_setup` (or price ids made in the Stripe dashboard).

Failures: a declined card → `PaymentFailed` (402, Stripe's message); an unknown payment method
→ `DomainValidationError` (400 on `payment_method`); anything else (API or network error, no
key) → `PaymentProviderError` (502).
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import time
from dataclasses import dataclass

import stripe
from django.conf import settings

from accounts.models import Subscription
from strathwell.exceptions import DomainValidationError, PaymentFailed, PaymentProviderError
from strathwell.stripe_api import get_client

logger = logging.getLogger("strathwell.accounts")

# The last API version with `invoice.payment_intent` and `subscription.current_period_end`
# (the shapes localstripe serves); Stripe keeps answering in it for as long as it is pinned.
STRIPE_BILLING_API_VERSION = "2025-02-24.acacia"

Status = Subscription.Status

# Stripe's subscription statuses → ours. `unpaid`/`paused` are renewals Stripe gave up on or
# stopped: they count as past_due, whose grace period has long run out by then.
STATUS_FROM_STRIPE = {
    "incomplete": Status.INCOMPLETE,
    "trialing": Status.ACTIVE,
    "active": Status.ACTIVE,
    "past_due": Status.PAST_DUE,
    "unpaid": Status.PAST_DUE,
    "paused": Status.PAST_DUE,
    "canceled": Status.CANCELED,
    "incomplete_expired": Status.CANCELED,
}
LIVE_STRIPE_STATUSES = frozenset({"incomplete", "trialing", "active", "past_due", "unpaid"})


# --- plans ------------------------------------------------------------------------------------


def price_for_plan(plan: str) -> str:
    """The Stripe plan/price id of one of our plans (settings)."""
    return {
        Subscription.Plan.MONTHLY: settings.STRIPE_PRICE_MONTHLY,
        Subscription.Plan.ANNUAL: settings.STRIPE_PRICE_ANNUAL,
    }[plan]


def plan_for_price(price_id: str | None) -> str | None:
    """Our plan for a Stripe plan/price id (None: not one of ours)."""
    for plan in Subscription.Plan.values:
        if price_id and price_id == price_for_plan(plan):
            return plan
    return None


# --- reading Stripe objects -------------------------------------------------------------------


def when(epoch) -> datetime.datetime | None:
    """A Stripe timestamp (epoch seconds) as an aware datetime; None for none or nonsense."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | float) or epoch <= 0:
        return None
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


def _id(value) -> str | None:
    """An expandable field: the id string, or the id of the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class StripeSubscription:
    """What we keep of a Stripe subscription, in our vocabulary."""

    id: str
    customer: str | None
    stripe_status: str
    status: str
    plan: str | None
    current_period_end: datetime.datetime | None
    cancel_at: datetime.datetime | None
    started_at: datetime.datetime | None
    ended_at: datetime.datetime | None
    user_id: str | None
    stamp: int  # Stripe's time of this state (epoch seconds)
    # The first invoice's PaymentIntent, when the response carried it (start only).
    intent_status: str | None = None
    client_secret: str | None = None
    payment_error: str | None = None

    @property
    def is_live(self) -> bool:
        return self.stripe_status in LIVE_STRIPE_STATUSES


def subscription_items(obj: dict) -> list[dict]:
    items = obj.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return [item for item in data or [] if isinstance(item, dict)]


def _price_of(obj: dict) -> str | None:
    for item in subscription_items(obj):
        price = _id(item.get("price")) or _id(item.get("plan"))
        if price:
            return price
    return _id(obj.get("plan"))


def _period_end(obj: dict) -> datetime.datetime | None:
    # Up to API 2025-02-24 on the subscription; since 2025-03-31 on each item.
    ends = [obj.get("current_period_end")]
    ends += [item.get("current_period_end") for item in subscription_items(obj)]
    found = [when for when in map(when, ends) if when is not None]
    return max(found) if found else None


def parse_subscription(obj: dict, *, stamp: int, intent: dict | None = None) -> StripeSubscription:
    """A Stripe subscription object (API response or event payload) in our terms."""
    stripe_status = str(obj.get("status") or "")
    period_end = _period_end(obj)
    cancel_at = when(obj.get("cancel_at"))
    if cancel_at is None and obj.get("cancel_at_period_end"):
        cancel_at = period_end  # localstripe leaves cancel_at null: the period's end it is
    metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    error = (intent or {}).get("last_payment_error") or {}
    return StripeSubscription(
        id=str(obj["id"]),
        customer=_id(obj.get("customer")),
        stripe_status=stripe_status,
        status=STATUS_FROM_STRIPE.get(stripe_status, Status.INCOMPLETE),
        plan=plan_for_price(_price_of(obj)),
        current_period_end=period_end,
        cancel_at=cancel_at,
        started_at=when(obj.get("start_date")) or when(obj.get("created")),
        ended_at=when(obj.get("ended_at")) or when(obj.get("canceled_at")),
        user_id=metadata.get("user_id"),
        stamp=int(stamp),
        intent_status=(intent or {}).get("status"),
        client_secret=(intent or {}).get("client_secret"),
        payment_error=error.get("message") or error.get("code"),
    )


def invoice_subscription_id(invoice: dict) -> str | None:
    """The subscription an invoice bills (`invoice.subscription`, or since API 2025-03-31
    `invoice.parent.subscription_details.subscription`)."""
    found = _id(invoice.get("subscription"))
    if found:
        return found
    parent = invoice.get("parent") if isinstance(invoice.get("parent"), dict) else {}
    details = parent.get("subscription_details") or {}
    return _id(details.get("subscription")) if isinstance(details, dict) else None


def invoice_period_end(invoice: dict) -> datetime.datetime | None:
    """The end of the period an invoice pays for: the latest end of its lines' periods."""
    lines = invoice.get("lines") if isinstance(invoice.get("lines"), dict) else {}
    ends = [
        (line.get("period") or {}).get("end")
        for line in lines.get("data") or []
        if isinstance(line, dict)
    ]
    found = [when for when in map(when, ends) if when is not None]
    return max(found) if found else None


def response_stamp(obj) -> int:
    """Stripe's clock for an API response: its `Date` header (our clock if it has none), so
    the states we write from responses and from events are stamped by the same clock."""
    response = getattr(obj, "last_response", None)
    header = (getattr(response, "headers", None) or {}).get("Date")
    if header:
        try:
            return int(email.utils.parsedate_to_datetime(header).timestamp())
        except (TypeError, ValueError):
            pass
    return int(time.time())


# --- calls --------------------------------------------------------------------------------------


def _options(idempotency_key: str | None = None) -> dict:
    options = {"stripe_version": STRIPE_BILLING_API_VERSION}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    return options


def _provider_error(what: str, exc: Exception) -> PaymentProviderError:
    logger.warning("Stripe Billing call failed (%s): %r", what, exc)
    return PaymentProviderError(
        "The payment provider failed or is unreachable; no subscription was started. "
        "Retry the request.",
        details={"provider_error": type(exc).__name__},
    )


def find_customer(*, user_id, email_address: str) -> str | None:
    """The Customer an earlier attempt made for this organizer (by email and our
    `metadata.user_id`): a start that died after creating it must not make a second one."""
    try:
        customers = get_client().v1.customers.list(
            params={"email": email_address, "limit": 100}, options=_options()
        )
    except stripe.StripeError as exc:
        raise _provider_error("list customers", exc) from exc
    for customer in customers.data:
        if (customer.to_dict().get("metadata") or {}).get("user_id") == str(user_id):
            return customer.id
    return None


def create_customer(*, user_id, email_address: str, full_name: str) -> str:
    """Create the organizer's Customer (idempotency key per organizer: one per organizer)."""
    try:
        customer = get_client().v1.customers.create(
            params={
                "email": email_address,
                "name": full_name or email_address,
                "metadata": {"user_id": str(user_id)},
            },
            options=_options(f"strathwell-customer-{user_id}"),
        )
    except stripe.StripeError as exc:
        raise _provider_error("create customer", exc) from exc
    return customer.id


def set_default_payment_method(*, customer_id: str, payment_method: str, key: str) -> str:
    """Attach the Stripe.js PaymentMethod to the Customer and make it the default of its
    invoices (localstripe has no `default_payment_method` on subscriptions). Returns the
    attached PaymentMethod's id. A declined card → PaymentFailed (402)."""
    client = get_client()
    try:
        attached = client.v1.payment_methods.attach(
            payment_method,
            params={"customer": customer_id},
            options=_options(f"{key}-attach"),
        )
    except stripe.CardError as exc:
        raise PaymentFailed(
            exc.user_message or str(exc) or PaymentFailed.default_message,
            details={"decline_code": exc.code or "card_declined"},
        ) from exc
    except stripe.InvalidRequestError as exc:
        if exc.http_status in (400, 404):
            raise DomainValidationError(
                "This payment method cannot be used.",
                details={"payment_method": [exc.user_message or "No such payment method."]},
            ) from exc
        raise _provider_error("attach payment method", exc) from exc
    except stripe.StripeError as exc:
        raise _provider_error("attach payment method", exc) from exc
    try:
        client.v1.customers.update(
            customer_id,
            params={"invoice_settings": {"default_payment_method": attached.id}},
            options=_options(f"{key}-default"),
        )
    except stripe.StripeError as exc:
        raise _provider_error("set default payment method", exc) from exc
    return attached.id


def live_subscriptions(customer_id: str) -> list[StripeSubscription]:
    """The Customer's subscriptions that are not over (newest first)."""
    try:
        listed = get_client().v1.subscriptions.list(
            params={"customer": customer_id, "limit": 100}, options=_options()
        )
    except stripe.StripeError as exc:
        raise _provider_error("list subscriptions", exc) from exc
    stamp = response_stamp(listed)
    found = [parse_subscription(sub.to_dict(), stamp=stamp) for sub in listed.data]
    live = [sub for sub in found if sub.is_live]
    return sorted(live, key=lambda sub: sub.started_at or when(1), reverse=True)


def _with_first_intent(client, obj, *, stamp: int) -> StripeSubscription:
    """Parse a subscription; when its first payment is not through, read the PaymentIntent of
    its latest invoice (status, client_secret, decline message)."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else obj
    intent = None
    if data.get("status") == "incomplete":
        invoice = data.get("latest_invoice")
        if isinstance(invoice, str):
            invoice = client.v1.invoices.retrieve(invoice, options=_options()).to_dict()
        intent_ref = (invoice or {}).get("payment_intent")
        if isinstance(intent_ref, str):
            intent = client.v1.payment_intents.retrieve(intent_ref, options=_options()).to_dict()
        elif isinstance(intent_ref, dict):
            intent = intent_ref
    return parse_subscription(data, stamp=stamp, intent=intent)


def create_subscription(*, customer_id: str, plan: str, user_id, key: str) -> StripeSubscription:
    """Subscribe the Customer to the plan; the first invoice is charged at once. Stripe answers
    `active` (paid), or `incomplete` with the PaymentIntent that needs an action or was
    declined (`allow_incomplete`, so a card needing 3-D Secure is not an error)."""
    client = get_client()
    try:
        created = client.v1.subscriptions.create(
            params={
                "customer": customer_id,
                "items": [{"plan": price_for_plan(plan)}],
                "metadata": {"user_id": str(user_id), "plan": plan},
                "payment_behavior": "allow_incomplete",
                "expand": ["latest_invoice.payment_intent"],
            },
            options=_options(f"{key}-subscription"),
        )
        return _with_first_intent(client, created, stamp=response_stamp(created))
    except stripe.CardError as exc:  # a decline answered as an error rather than `incomplete`
        raise PaymentFailed(exc.user_message or str(exc) or PaymentFailed.default_message) from exc
    except stripe.StripeError as exc:
        raise _provider_error("create subscription", exc) from exc


def retrieve_subscription(subscription_id: str) -> StripeSubscription:
    client = get_client()
    try:
        found = client.v1.subscriptions.retrieve(
            subscription_id,
            params={"expand": ["latest_invoice.payment_intent"]},
            options=_options(),
        )
        return _with_first_intent(client, found, stamp=response_stamp(found))
    except stripe.StripeError as exc:
        raise _provider_error("retrieve subscription", exc) from exc


def set_cancel_at_period_end(subscription_id: str, *, cancel: bool) -> StripeSubscription:
    """Schedule (or withdraw) the cancellation at the current period's end."""
    try:
        updated = get_client().v1.subscriptions.update(
            subscription_id,
            params={"cancel_at_period_end": cancel},
            options=_options(),  # setting a flag: a repeat changes nothing
        )
    except stripe.StripeError as exc:
        raise _provider_error("update subscription", exc) from exc
    return parse_subscription(updated.to_dict(), stamp=response_stamp(updated))


def cancel_now(subscription_id: str) -> StripeSubscription:
    """End the subscription at once (no refund): an incomplete one nobody paid, or staff."""
    try:
        canceled = get_client().v1.subscriptions.cancel(subscription_id, options=_options())
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:  # already gone in Stripe
            return retrieve_subscription(subscription_id)
        raise _provider_error("cancel subscription", exc) from exc
    except stripe.StripeError as exc:
        raise _provider_error("cancel subscription", exc) from exc
    return parse_subscription(canceled.to_dict(), stamp=response_stamp(canceled))


def discard_subscription(subscription_id: str) -> None:
    """Best effort: end a subscription whose first payment was declined, so none is left
    behind (errors are logged: Stripe expires an unpaid incomplete subscription itself)."""
    try:
        get_client().v1.subscriptions.cancel(subscription_id, options=_options())
    except Exception as exc:
        logger.warning("Could not cancel declined subscription %s: %r", subscription_id, exc)


# --- catalog (manage.py stripe_setup) -----------------------------------------------------------

INTERVALS = {Subscription.Plan.MONTHLY: "month", Subscription.Plan.ANNUAL: "year"}


@dataclass(frozen=True)
class CatalogItem:
    kind: str  # product | plan
    id: str
    created: bool
    detail: str
    problem: str = ""


def _retrieve_or_none(retrieve, object_id: str):
    try:
        return retrieve(object_id, options=_options())
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise


def ensure_catalog() -> list[CatalogItem]:
    """Make the billing product and one plan per plan setting, each only when absent (fixed
    ids, so a second run finds them and creates nothing). A plan that exists with another
    amount, currency or interval is reported as a problem, never changed (Stripe plans are
    immutable: give it a new id)."""
    client = get_client()
    currency = settings.DEFAULT_CURRENCY
    amounts = {
        Subscription.Plan.MONTHLY: settings.SUBSCRIPTION_MONTHLY_PRICE_CENTS,
        Subscription.Plan.ANNUAL: settings.SUBSCRIPTION_ANNUAL_PRICE_CENTS,
    }
    items = []
    try:
        product_id = settings.STRIPE_BILLING_PRODUCT
        product = _retrieve_or_none(client.v1.products.retrieve, product_id)
        if product is None:
            client.v1.products.create(
                params={"id": product_id, "name": "Strathwell organizer subscription"},
                options=_options(f"strathwell-product-{product_id}"),
            )
        items.append(CatalogItem("product", product_id, product is None, "organizer access"))
        for plan in Subscription.Plan.values:
            plan_id, amount, interval = price_for_plan(plan), amounts[plan], INTERVALS[plan]
            found = _retrieve_or_none(client.v1.plans.retrieve, plan_id)
            detail = f"{plan}: {amount} {currency} per {interval}"
            if found is None:
                client.v1.plans.create(
                    params={
                        "id": plan_id,
                        "product": product_id,
                        "amount": amount,
                        "currency": currency,
                        "interval": interval,
                        "nickname": f"Organizer {plan}",
                    },
                    options=_options(f"strathwell-plan-{plan_id}"),
                )
                items.append(CatalogItem("plan", plan_id, True, detail))
                continue
            have = found.to_dict()
            problem = ""
            wanted = (amount, currency, interval)
            actual = (
                have.get("amount"),
                str(have.get("currency", "")).lower(),
                have.get("interval"),
            )
            if actual != wanted:
                problem = f"exists as {actual[0]} {actual[1]} per {actual[2]}, not {detail}"
            items.append(CatalogItem("plan", plan_id, False, detail, problem))
    except stripe.StripeError as exc:
        raise _provider_error("stripe_setup", exc) from exc
    return items
