"""The Stripe client every app uses (the official `stripe` library), built from settings.

The client is built at call time, so `STRIPE_SECRET_KEY` / `STRIPE_API_BASE` changes (tests,
`make run` with localstripe) take effect without a restart, and nothing mutates the library's
module-level globals that other threads may be using. It lives in the bottom layer because two
apps talk to Stripe: `payments` (PaymentIntents, refunds) and `accounts` (Stripe Billing).
"""

from __future__ import annotations

import time

import stripe
from django.conf import settings

from strathwell.exceptions import PaymentProviderError

# A retry must have at least this much of the call's budget left after its back-off sleep: a
# retry squeezed into the last second of a hung call would only add to the wait.
MIN_RETRY_ATTEMPT_SECONDS = 2.0


class BudgetedRequestsClient(stripe.RequestsClient):
    """The library's requests-based client with a time budget per API call.

    Stripe answers in well under a second; a Stripe that accepts connections but never answers
    must not hold a worker thread for the library's default 80 s (× retries), or a brownout
    stalls the whole API. Each attempt has connect/read timeouts, cut to what is left of the
    call's budget, and a retry (the library's: connection errors, 409, 5xx; safe, every create
    carries an idempotency key) starts only if, after its back-off sleep, at least
    MIN_RETRY_ATTEMPT_SECONDS of the budget remain. So one call never outlives the budget
    (bar a server trickling bytes: requests' read timeout is per read, not per response), and
    the request around it answers within about a second more (the budget's default is 9 s).
    """

    def __init__(self, *, connect_timeout: float, read_timeout: float, budget_seconds: float):
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._budget_seconds = budget_seconds
        super().__init__(timeout=(connect_timeout, read_timeout))

    # The library reads `self._timeout` for each attempt; the budget's deadline is per thread.
    @property
    def _timeout(self) -> tuple[float, float]:
        deadline = getattr(self._thread_local, "deadline", None)
        if deadline is None:
            return (self._connect_timeout, self._read_timeout)
        left = max(deadline - time.monotonic(), 0.05)
        return (min(self._connect_timeout, left), min(self._read_timeout, left))

    @_timeout.setter
    def _timeout(self, value) -> None:  # set by the library's __init__; ours are the fields
        pass

    def _request_with_retries_internal(self, *args, **kwargs):
        self._thread_local.deadline = time.monotonic() + self._budget_seconds
        try:
            return super()._request_with_retries_internal(*args, **kwargs)
        finally:
            self._thread_local.deadline = None

    def _should_retry(self, response, api_connection_error, num_retries, max_network_retries):
        if not super()._should_retry(
            response, api_connection_error, num_retries, max_network_retries
        ):
            return False
        deadline = getattr(self._thread_local, "deadline", None)
        if deadline is None:
            return True
        # The longest back-off the library may sleep before this retry (see _sleep_time_seconds).
        sleep = max(self.INITIAL_DELAY, min(self.INITIAL_DELAY * 2**num_retries, self.MAX_DELAY))
        return deadline - time.monotonic() - sleep >= MIN_RETRY_ATTEMPT_SECONDS


def get_client() -> stripe.StripeClient:
    """A StripeClient configured from settings (key, optional api base, timeouts: see
    `BudgetedRequestsClient`). Every call site gets its client here, so all inherit them."""
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentProviderError(
            "Payments are not configured on this server (STRIPE_SECRET_KEY is not set)."
        )
    kwargs = {}
    if settings.STRIPE_API_BASE:
        kwargs["base_addresses"] = {"api": settings.STRIPE_API_BASE.rstrip("/")}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=BudgetedRequestsClient(
            connect_timeout=min(
                settings.STRIPE_CONNECT_TIMEOUT_SECONDS, settings.STRIPE_TIMEOUT_SECONDS
            ),
            read_timeout=settings.STRIPE_TIMEOUT_SECONDS,
            budget_seconds=settings.STRIPE_CALL_BUDGET_SECONDS,
        ),
        **kwargs,
    )
