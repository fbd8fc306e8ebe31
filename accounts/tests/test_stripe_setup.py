"""`manage.py stripe_setup` on localstripe: the product and plans once, however often it runs,
and the settings `make run` (scripts/run_local.py) reads from its output."""

import importlib.util
import io
import os
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from strathwell.testing.servers import LOCALSTRIPE_API_KEY

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_ids(settings, localstripe_server):
    """This test's own product and plan ids on the shared localstripe."""
    suffix = uuid.uuid4().hex[:8]
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    settings.STRIPE_BILLING_PRODUCT = f"organizer-{suffix}"
    settings.STRIPE_PRICE_MONTHLY = f"organizer-{suffix}-monthly"
    settings.STRIPE_PRICE_ANNUAL = f"organizer-{suffix}-annual"
    return settings


def run() -> str:
    out = io.StringIO()
    call_command("stripe_setup", stdout=out)
    return out.getvalue()


def test_twice_makes_one_product_and_one_plan_each(fresh_ids, localstripe_client):
    first, second = run(), run()

    assert first.count("created") == 3 and "exists" not in first
    assert second.count("exists") == 3 and "created" not in second
    listed = localstripe_client.v1.products.list(params={"limit": 100}).auto_paging_iter()
    assert [p.id for p in listed].count(fresh_ids.STRIPE_BILLING_PRODUCT) == 1
    plans = localstripe_client.v1.plans.list(
        params={"product": fresh_ids.STRIPE_BILLING_PRODUCT, "limit": 100}
    ).data
    assert sorted((p.id, p.amount, p.currency, p.interval) for p in plans) == [
        (fresh_ids.STRIPE_PRICE_ANNUAL, 49000, "usd", "year"),
        (fresh_ids.STRIPE_PRICE_MONTHLY, 4900, "usd", "month"),
    ]
    for name in ("STRIPE_BILLING_PRODUCT", "STRIPE_PRICE_MONTHLY", "STRIPE_PRICE_ANNUAL"):
        assert f"{name}={getattr(fresh_ids, name)}" in second.splitlines()


def test_a_plan_that_exists_with_another_price_is_reported_not_changed(
    fresh_ids, localstripe_client
):
    run()
    fresh_ids.SUBSCRIPTION_MONTHLY_PRICE_CENTS = 5900

    with pytest.raises(CommandError, match=fresh_ids.STRIPE_PRICE_MONTHLY):
        run()

    assert localstripe_client.v1.plans.retrieve(fresh_ids.STRIPE_PRICE_MONTHLY).amount == 4900


def test_make_run_reads_the_ids_it_prints(localstripe_server):
    """`scripts/run_local.py` runs the command in a subprocess and feeds its output to the
    server's environment."""
    spec = importlib.util.spec_from_file_location("run_local", ROOT / "scripts" / "run_local.py")
    run_local = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_local)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "strathwell.settings",
        "APP_ENV": "local",
        "STRIPE_API_BASE": localstripe_server.url,
        "STRIPE_SECRET_KEY": LOCALSTRIPE_API_KEY,
    }

    found = run_local.stripe_setup(env)

    assert found == {
        "STRIPE_BILLING_PRODUCT": "strathwell-organizer",
        "STRIPE_PRICE_MONTHLY": "strathwell-organizer-monthly",
        "STRIPE_PRICE_ANNUAL": "strathwell-organizer-annual",
    }
