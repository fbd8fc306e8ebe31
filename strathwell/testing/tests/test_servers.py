"""Smoke tests for the test servers. They need neither Django nor a database:

    python -m pytest strathwell/testing/tests -p no:django -p strathwell.testing.fixtures -q

Several tests are *characterisation* tests: they pin down what localstripe 1.15.10 and moto
5.2.5 actually do (including what they do NOT enforce), so a version bump that changes the
behaviour is noticed.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid

import boto3
import pytest
import requests
import stripe
from botocore.config import Config

from strathwell.testing import fixtures as testing_fixtures
from strathwell.testing.fixtures import artifacts_root
from strathwell.testing.servers import (
    LOCALSTRIPE_API_KEY,
    RunningServer,
    ServerSpec,
    ServerStartError,
    WebhookReceiver,
    disable_localstripe_webhook,
    http_probe,
    moto_client_kwargs,
    register_localstripe_webhook,
    start_localstripe,
    start_server,
)

pytestmark = pytest.mark.e2e

WEBHOOK_SECRET = "whsec_test_strathwell"


def card(number: str) -> dict[str, object]:
    return {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def new_card_pm(client: stripe.StripeClient, number: str = "4242424242424242") -> str:
    return client.v1.payment_methods.create(params={"type": "card", "card": card(number)}).id


def test_plugin_imports_nothing_from_django() -> None:
    code = (
        "import sys, strathwell.testing.fixtures, strathwell.testing.servers; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'rest_framework', 'stripe', 'boto3', 'selenium')); "
        "assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


# --- server lifecycle -------------------------------------------------------------------------


def test_localstripe_server_fixture(localstripe_server: RunningServer) -> None:
    assert localstripe_server.url == f"http://127.0.0.1:{localstripe_server.port}"
    assert localstripe_server.is_running()
    headers = {"Authorization": f"Bearer {LOCALSTRIPE_API_KEY}"}
    assert http_probe(localstripe_server.url + "/v1/customers", headers=headers) == 200
    assert http_probe(localstripe_server.url + "/v1/customers") == 401  # key required


def test_moto_server_fixture(moto_s3_server: RunningServer) -> None:
    assert moto_s3_server.url == f"http://127.0.0.1:{moto_s3_server.port}"
    assert http_probe(moto_s3_server.url + "/moto-api/") == 200


def test_context_manager_stops_and_frees_the_port() -> None:
    with start_localstripe() as server:
        port = server.port
        assert server.is_running()
    assert not server.is_running()
    assert server.stop() is not None  # idempotent
    with pytest.raises(OSError):
        http_probe(f"http://127.0.0.1:{port}/", timeout=1)


def test_crash_at_start_reports_output_tail() -> None:
    spec = ServerSpec(
        "crasher",
        lambda host, port: [
            sys.executable,
            "-c",
            "import sys; print('boom: config missing', file=sys.stderr); sys.exit(3)",
        ],
    )
    with pytest.raises(ServerStartError) as excinfo:
        start_server(spec, timeout=10)
    message = str(excinfo.value)
    assert "exited with code 3" in message
    assert "boom: config missing" in message


def test_never_ready_times_out_with_output_tail() -> None:
    spec = ServerSpec(
        "sleeper",
        lambda host, port: [sys.executable, "-c", "import time; print('zzz'); time.sleep(60)"],
        ready_marker=None,
    )
    started = time.monotonic()
    with pytest.raises(ServerStartError) as excinfo:
        start_server(spec, timeout=1.5)
    assert time.monotonic() - started < 10
    assert "did not become ready" in str(excinfo.value)
    assert "zzz" in str(excinfo.value)


def test_port_in_use_is_reported() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(ServerStartError) as excinfo:
            start_localstripe(port=port, timeout=15)
    assert "address already in use" in str(excinfo.value).lower()


# --- (a) stripe 16 against localstripe --------------------------------------------------------


def test_stripe_client_payment_intent_roundtrip(localstripe_client: stripe.StripeClient) -> None:
    pm_id = new_card_pm(localstripe_client)
    pi = localstripe_client.v1.payment_intents.create(
        params={
            "amount": 12_500,
            "currency": "usd",
            "payment_method": pm_id,
            "metadata": {"payment_id": "pay_1", "booking_id": "bk_1"},
        },
        options={"idempotency_key": f"payment-{uuid.uuid4()}"},
    )
    assert pi.id.startswith("pi_")
    assert pi.status == "requires_confirmation"
    assert pi.metadata.to_dict() == {"payment_id": "pay_1", "booking_id": "bk_1"}

    confirmed = localstripe_client.v1.payment_intents.confirm(pi.id)
    assert confirmed.status == "succeeded"
    assert confirmed.amount == 12_500
    # Quirk: localstripe returns latest_charge as an expanded Charge, real Stripe as an id.
    assert confirmed.latest_charge.object == "charge"


def test_confirm_with_payment_method_param_is_not_implemented(
    localstripe_client: stripe.StripeClient,
) -> None:
    pm_id = new_card_pm(localstripe_client)
    pi = localstripe_client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
    assert pi.status == "requires_payment_method"
    with pytest.raises(stripe.APIError, match="Not implemented") as excinfo:
        localstripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method": pm_id})
    assert excinfo.value.http_status == 500
    # Workaround 1: attach the payment method with an update, then confirm without params.
    localstripe_client.v1.payment_intents.update(pi.id, params={"payment_method": pm_id})
    assert localstripe_client.v1.payment_intents.confirm(pi.id).status == "succeeded"
    # Workaround 2: create with confirm=True.
    direct = localstripe_client.v1.payment_intents.create(
        params={"amount": 500, "currency": "usd", "payment_method": pm_id, "confirm": True}
    )
    assert direct.status == "succeeded"


def test_localstripe_ignores_idempotency_keys(localstripe_client: stripe.StripeClient) -> None:
    key = f"payment-{uuid.uuid4()}"
    params = {"amount": 900, "currency": "usd", "metadata": {"payment_id": "p", "booking_id": "b"}}
    first = localstripe_client.v1.payment_intents.create(
        params=params, options={"idempotency_key": key}
    )
    second = localstripe_client.v1.payment_intents.create(
        params=params, options={"idempotency_key": key}
    )
    # Real Stripe would replay the first response; localstripe creates a second object.
    assert first.id != second.id


@pytest.mark.parametrize(
    "extra",
    [
        {"automatic_payment_methods": {"enabled": True}},
        {"description": "Booking deposit"},
        {"receipt_email": "a@example.com"},
    ],
    ids=lambda extra: next(iter(extra)),
)
def test_localstripe_rejects_unknown_payment_intent_params(
    localstripe_client: stripe.StripeClient, extra: dict[str, object]
) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="Unexpected") as excinfo:
        localstripe_client.v1.payment_intents.create(
            params={"amount": 100, "currency": "usd", **extra}
        )
    assert excinfo.value.http_status == 400


def test_global_stripe_config(
    localstripe_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_key", LOCALSTRIPE_API_KEY)
    monkeypatch.setattr(stripe, "api_base", localstripe_server.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)  # default 2 would retry 500s
    pm = stripe.PaymentMethod.create(type="card", card=card("4242424242424242"))
    pi = stripe.PaymentIntent.create(
        amount=2_000,
        currency="usd",
        payment_method=pm.id,
        metadata={"payment_id": "pay_g", "booking_id": "bk_g"},
        idempotency_key=f"payment-{uuid.uuid4()}",
    )
    assert stripe.PaymentIntent.confirm(pi.id).status == "succeeded"
    assert stripe.PaymentIntent.retrieve(pi.id).metadata["booking_id"] == "bk_g"


def test_declining_cards(localstripe_client: stripe.StripeClient) -> None:
    # 4000000000000002 only declines when *attached to a customer* in localstripe ...
    pm_0002 = new_card_pm(localstripe_client, "4000000000000002")
    pi = localstripe_client.v1.payment_intents.create(
        params={"amount": 700, "currency": "usd", "payment_method": pm_0002}
    )
    assert localstripe_client.v1.payment_intents.confirm(pi.id).status == "succeeded"
    customer = localstripe_client.v1.customers.create()
    with pytest.raises(stripe.CardError):
        localstripe_client.v1.payment_methods.attach(pm_0002, params={"customer": customer.id})

    # ... the card that declines a charge is 4000000000000341.
    pm_0341 = new_card_pm(localstripe_client, "4000000000000341")
    pi = localstripe_client.v1.payment_intents.create(
        params={"amount": 700, "currency": "usd", "payment_method": pm_0341}
    )
    with pytest.raises(stripe.CardError) as excinfo:
        localstripe_client.v1.payment_intents.confirm(pi.id)
    assert excinfo.value.http_status == 402
    assert excinfo.value.code == "card_declined"
    after = localstripe_client.v1.payment_intents.retrieve(pi.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.code == "card_declined"


# --- (b) webhooks -----------------------------------------------------------------------------


def test_webhook_delivery_and_signature(
    localstripe_server: RunningServer,
    localstripe_client: stripe.StripeClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    register_localstripe_webhook(
        localstripe_server,
        webhook_receiver.url + "/stripe/webhook",
        WEBHOOK_SECRET,
        webhook_id="smoke",
        events=["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    try:
        pm_id = new_card_pm(localstripe_client)
        pi = localstripe_client.v1.payment_intents.create(
            params={
                "amount": 4_200,
                "currency": "usd",
                "payment_method": pm_id,
                "metadata": {"payment_id": "pay_w", "booking_id": "bk_w"},
            }
        )
        started = time.time()
        localstripe_client.v1.payment_intents.confirm(pi.id)

        def is_ours(request) -> bool:
            body = json.loads(request.body)
            return (
                body.get("type") == "payment_intent.succeeded"
                and body["data"]["object"]["id"] == pi.id
            )

        # Asynchronous: confirm has returned, the event is not there yet (sent ~1 s later).
        assert not any(is_ours(request) for request in webhook_receiver.requests)
        received = webhook_receiver.wait_for(is_ours, timeout=15)
        assert received.received_at - started >= 0.9
        assert received.method == "POST"
        assert received.path == "/stripe/webhook"
        assert received.headers["Content-Type"] == "application/json; charset=utf-8"
        assert received.headers["Stripe-Signature"].startswith("t=")
        assert ",v1=" in received.headers["Stripe-Signature"]

        event = stripe.Webhook.construct_event(
            received.body, received.headers["Stripe-Signature"], WEBHOOK_SECRET, tolerance=300
        )
        assert event.type == "payment_intent.succeeded"
        assert event.id.startswith("evt_")
        assert event.api_version == "2017-08-15"  # localstripe's, whatever stripe-python pins
        obj = event.data.object
        assert isinstance(obj, stripe.PaymentIntent)
        assert (obj.id, obj.amount, obj.currency, obj.status) == (pi.id, 4_200, "usd", "succeeded")
        assert obj.metadata.to_dict() == {"payment_id": "pay_w", "booking_id": "bk_w"}
        # The StripeClient flavour verifies too; a wrong secret does not.
        assert (
            localstripe_client.construct_event(
                received.body, received.headers["Stripe-Signature"], WEBHOOK_SECRET
            ).id
            == event.id
        )
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(
                received.body, received.headers["Stripe-Signature"], "whsec_wrong"
            )
    finally:
        disable_localstripe_webhook(localstripe_server, webhook_id="smoke")


def test_webhook_event_filter_and_failure_event(
    localstripe_server: RunningServer,
    localstripe_client: stripe.StripeClient,
    webhook_receiver: WebhookReceiver,
) -> None:
    register_localstripe_webhook(
        localstripe_server,
        webhook_receiver.url,
        WEBHOOK_SECRET,
        webhook_id="failures",
        events=["payment_intent.payment_failed"],
    )
    try:
        localstripe_client.v1.customers.create()  # customer.created: filtered out
        pm_id = new_card_pm(localstripe_client, "4000000000000341")
        pi = localstripe_client.v1.payment_intents.create(
            params={"amount": 300, "currency": "usd", "payment_method": pm_id}
        )
        with pytest.raises(stripe.CardError):
            localstripe_client.v1.payment_intents.confirm(pi.id)
        received = webhook_receiver.wait_for_event("payment_intent.payment_failed", timeout=10)
        event = stripe.Webhook.construct_event(
            received.body, received.headers["Stripe-Signature"], WEBHOOK_SECRET
        )
        assert event.data.object.id == pi.id
        assert event.data.object.status == "requires_payment_method"
        assert event.data.object.last_payment_error.code == "card_declined"
        time.sleep(1.5)  # anything else would have arrived by now
        types = {json.loads(r.body)["type"] for r in webhook_receiver.requests}
        assert types == {"payment_intent.payment_failed"}
    finally:
        disable_localstripe_webhook(localstripe_server, webhook_id="failures")


# --- (c) moto S3 presigned POST ---------------------------------------------------------------


@pytest.fixture
def s3_bucket(moto_s3_server: RunningServer) -> tuple[object, str]:
    client = boto3.client(
        "s3", config=Config(signature_version="s3v4"), **moto_client_kwargs(moto_s3_server)
    )
    bucket = f"strathwell-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


def presigned_upload(
    client, bucket: str, key: str, content_type: str, max_bytes: int, **overrides: str
) -> tuple[dict, dict]:
    post = client.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=300,
    )
    return post, {**post["fields"], **overrides}


def post_file(url: str, fields: dict, body: bytes, content_type: str) -> requests.Response:
    # requests sends `data` fields before `files`: S3 requires the file to be the last part.
    return requests.post(
        url, data=fields, files={"file": ("upload.bin", body, content_type)}, timeout=30
    )


def test_presigned_post_upload(s3_bucket) -> None:
    client, bucket = s3_bucket
    post, fields = presigned_upload(client, bucket, "uploads/a.png", "image/png", 1024)
    assert post["url"] == f"{client.meta.endpoint_url}/{bucket}"
    assert {"key", "policy", "x-amz-algorithm", "x-amz-signature", "Content-Type"} <= set(fields)
    response = post_file(post["url"], fields, b"\x89PNG" + b"x" * 100, "image/png")
    assert response.status_code == 204
    head = client.head_object(Bucket=bucket, Key="uploads/a.png")
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == 104

    _, fields = presigned_upload(
        client, bucket, "uploads/b.png", "image/png", 1024, success_action_status="201"
    )
    assert post_file(post["url"], fields, b"abc", "image/png").status_code == 201


def test_default_presigned_post_is_sigv2() -> None:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    fields = client.generate_presigned_post(Bucket="some-bucket", Key="k")["fields"]
    assert {"AWSAccessKeyId", "signature"} <= set(fields)  # pass Config(signature_version="s3v4")


def test_moto_does_not_enforce_post_policy(s3_bucket) -> None:
    client, bucket = s3_bucket
    url = f"{client.meta.endpoint_url}/{bucket}"

    _, fields = presigned_upload(client, bucket, "big.png", "image/png", 100)
    assert post_file(url, fields, b"x" * 5_000, "image/png").status_code == 204  # > max
    assert client.head_object(Bucket=bucket, Key="big.png")["ContentLength"] == 5_000

    _, fields = presigned_upload(client, bucket, "ct.png", "image/png", 100)
    fields["Content-Type"] = "text/html"  # violates {"Content-Type": "image/png"}
    assert post_file(url, fields, b"<b>hi</b>", "text/html").status_code == 204
    assert client.head_object(Bucket=bucket, Key="ct.png")["ContentType"] == "text/html"

    _, fields = presigned_upload(client, bucket, "sig.png", "image/png", 100)
    fields["x-amz-signature"] = "0" * 64
    fields["key"] = "not-the-signed-key.png"
    assert post_file(url, fields, b"abc", "image/png").status_code == 204
    client.head_object(Bucket=bucket, Key="not-the-signed-key.png")

    expired = client.generate_presigned_post(Bucket=bucket, Key="late.png", ExpiresIn=-60)
    assert post_file(url, expired["fields"], b"abc", "image/png").status_code == 204


def test_object_content_type_comes_from_the_form_field(s3_bucket) -> None:
    client, bucket = s3_bucket
    post, fields = presigned_upload(client, bucket, "f.png", "image/png", 100)
    assert post_file(post["url"], fields, b"abc", "text/plain").status_code == 204
    assert client.head_object(Bucket=bucket, Key="f.png")["ContentType"] == "image/png"


# --- (d) chromium -----------------------------------------------------------------------------


@pytest.mark.browser
def test_chromium_driver(chromium_driver, artifacts_dir) -> None:
    from selenium.webdriver.common.by import By

    chromium_driver.get("data:text/html,<h1>hi</h1>")
    assert chromium_driver.find_element(By.TAG_NAME, "h1").text == "hi"
    assert chromium_driver.get_window_size() == {"width": 1400, "height": 1000}
    screenshot = artifacts_dir / "hi.png"
    assert chromium_driver.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_chromium_skips_locally_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testing_fixtures, "CHROMIUM_BINARY", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="missing /nonexistent/chromium"):
        testing_fixtures.require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        testing_fixtures.require_chromium()


def test_artifacts_dir(artifacts_dir, request: pytest.FixtureRequest) -> None:
    assert artifacts_dir.is_dir()
    assert artifacts_dir.name == request.node.name
    assert artifacts_dir.parent == artifacts_root()
