"""The staff console in a real browser: headless Chromium (Debian's chromium + chromium-driver,
see strathwell/testing/fixtures.py) against a live server. A staff user approves an eligible
payout through the confirmation page; screenshots of the confirmation and result pages are
saved as test artifacts (artifacts/<test name>/)."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from accounts.tests.factories import DEFAULT_PASSWORD, AdminFactory
from payments.models import LedgerEntry, Payout
from strathwell.audit.models import AuditLog
from strathwell.console.tests import builders
from strathwell.testing.fixtures import CHROMIUM_WINDOW_SIZE

REASON = "Venue confirmed the booking; releasing the reservation payout."
WAIT_SECONDS = 15


def wait_for(driver, css):
    return WebDriverWait(driver, WAIT_SECONDS).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, css))
    )


def log_in(driver, base_url, email):
    driver.get(f"{base_url}/admin/login/?next=/admin/")
    driver.delete_all_cookies()  # the driver is shared by the session: start signed out
    driver.get(f"{base_url}/admin/login/?next=/admin/")
    wait_for(driver, "#id_username").send_keys(email)
    driver.find_element(By.ID, "id_password").send_keys(DEFAULT_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait_for(driver, "#staff-queues")  # the staff landing page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_approves_an_eligible_payout_in_the_browser(
    chromium_driver, live_server, artifacts_dir
):
    driver = chromium_driver
    staff = AdminFactory(email="olive.ops@strathwell.test", full_name="Olive Ops")
    payout = builders.eligible_payout()
    other = builders.locked_payout()  # filtered out of the eligible list

    log_in(driver, live_server.url, staff.email)
    queue = driver.find_element(By.LINK_TEXT, "Eligible payouts")
    assert queue.get_attribute("href").endswith("/admin/payments/payout/?status__exact=eligible")
    driver.save_screenshot(str(artifacts_dir / "index.png"))

    # The landing page links the eligible payouts queue; the changelist filter does the same.
    driver.get(f"{live_server.url}/admin/payments/payout/")
    wait_for(driver, "#changelist-filter")
    driver.find_element(
        By.CSS_SELECTOR, '#changelist-filter a[href*="status__exact=eligible"]'
    ).click()
    WebDriverWait(driver, WAIT_SECONDS).until(ec.url_contains("status__exact=eligible"))
    listed = {
        box.get_attribute("value")
        for box in driver.find_elements(By.CSS_SELECTOR, "input.action-select")
    }
    assert str(payout.pk) in listed and str(other.pk) not in listed

    driver.find_element(By.CSS_SELECTOR, f'input.action-select[value="{payout.pk}"]').click()
    Select(driver.find_element(By.NAME, "action")).select_by_visible_text("Approve payout")
    driver.find_element(By.CSS_SELECTOR, 'button[name="index"]').click()

    form = wait_for(driver, "#confirm-action-form")
    page = driver.find_element(By.ID, "confirm-action").text
    assert "Approve payout" in driver.title
    assert "eligible payout becomes paid" in page
    assert payout.vendor.business_name in page
    driver.save_screenshot(str(artifacts_dir / "confirmation.png"))
    payout.refresh_from_db()
    assert payout.status == Payout.Status.ELIGIBLE  # nothing happens before the confirmation

    form.find_element(By.NAME, "reason").send_keys(REASON)
    form.find_element(By.ID, "confirm-submit").click()

    success = wait_for(driver, "ul.messagelist li.success")
    assert "Approved 1 payout" in success.text
    driver.save_screenshot(str(artifacts_dir / "result.png"))

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID and payout.paid_at is not None
    entry = LedgerEntry.objects.get(payout=payout)
    assert entry.entry_type == LedgerEntry.EntryType.PAYOUT
    assert entry.amount_cents == payout.amount_cents
    audit = AuditLog.objects.get(action="payout.approve", target_id=str(payout.pk))
    assert audit.actor_id == staff.pk and audit.reason == REASON
    assert audit.before["status"] == "eligible" and audit.after["status"] == "paid"
    other.refresh_from_db()
    assert other.status == Payout.Status.LOCKED
    assert (artifacts_dir / "confirmation.png").stat().st_size > 0
    assert (artifacts_dir / "result.png").stat().st_size > 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_set_up_an_authenticator_at_first_sign_in(
    chromium_driver, live_server, artifacts_dir, settings
):
    """STAFF_OTP_REQUIRED: the password alone leads to the set-up page (QR code and key); the
    code computed from the shown key signs the staff user in."""
    from base64 import b32decode

    from django_otp.oath import totp

    settings.STAFF_OTP_REQUIRED = True
    settings.APP_ENV = "staging"
    driver = chromium_driver
    staff = AdminFactory(email="new.staff@strathwell.test")

    driver.get(f"{live_server.url}/admin/login/?next=/admin/")
    driver.delete_all_cookies()
    driver.get(f"{live_server.url}/admin/login/?next=/admin/")
    wait_for(driver, "#id_username").send_keys(staff.email)
    driver.find_element(By.ID, "id_password").send_keys(DEFAULT_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()

    secret = wait_for(driver, "#otp-secret").text
    assert driver.find_element(By.CSS_SELECTOR, "#otp-qr svg").is_displayed()
    driver.save_screenshot(str(artifacts_dir / "otp-setup.png"))
    code = f"{totp(b32decode(secret)):06d}"
    driver.find_element(By.ID, "id_otp_token").send_keys(code)
    driver.find_element(By.CSS_SELECTOR, "#otp-setup-form [type=submit]").click()

    wait_for(driver, "#staff-queues")
    driver.save_screenshot(str(artifacts_dir / "signed-in.png"))
    assert AuditLog.objects.filter(action="staff.otp_enrolled", actor=staff).exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_act_from_an_object_page_and_read_its_history(
    chromium_driver, live_server, artifacts_dir, request
):
    """On a seeded demo world at 1440 px: the landing page and a booking's page (its lines,
    payments, refunds, payouts and disputes inline) are screenshotted; a payout is held from
    its own page (the object tool → the same confirmation page) and its History lists the
    audit row with the reason and the status change."""
    from backoffice.demo import seed_world
    from bookings.models import Booking

    driver = chromium_driver
    driver.set_window_size(1440, 1800)
    # The driver is shared by the session: give the next test the window it was made with.
    request.addfinalizer(lambda: driver.set_window_size(*CHROMIUM_WINDOW_SIZE))
    seed_world()
    staff = AdminFactory(email="hana.history@strathwell.test", full_name="Hana History")
    payout = builders.eligible_payout()
    reason = "Organizer reported a damaged stage; holding until it is checked."

    log_in(driver, live_server.url, staff.email)
    driver.save_screenshot(str(artifacts_dir / "landing.png"))

    booking = Booking.objects.filter(payments__isnull=False, payouts__isnull=False).first()
    driver.get(f"{live_server.url}/admin/bookings/booking/{booking.pk}/change/")
    wait_for(driver, "#content-main")
    page = driver.find_element(By.ID, "content-main").text
    assert booking.title in page and " USD" in page and "cents" not in page.lower()
    for heading in ("PAYMENTS", "REFUNDS", "PAYOUTS", "DISPUTES"):  # inline titles (CSS caps)
        assert heading in page.upper()
    body = driver.find_element(By.TAG_NAME, "body")
    driver.set_window_size(1440, max(1800, body.size["height"] + 200))
    driver.save_screenshot(str(artifacts_dir / "booking.png"))
    driver.set_window_size(1440, 1800)

    driver.get(f"{live_server.url}/admin/payments/payout/{payout.pk}/change/")
    driver.find_element(By.CSS_SELECTOR, "a.object-action-hold_payouts").click()
    form = wait_for(driver, "#confirm-action-form")
    payout.refresh_from_db()
    assert payout.status == Payout.Status.ELIGIBLE
    form.find_element(By.NAME, "reason").send_keys(reason)
    form.find_element(By.ID, "confirm-submit").click()
    success = wait_for(driver, "ul.messagelist li.success")
    assert "Held 1 payout" in success.text
    assert driver.current_url.endswith(f"/admin/payments/payout/{payout.pk}/change/")
    payout.refresh_from_db()
    assert payout.status == Payout.Status.HELD

    driver.find_element(By.CSS_SELECTOR, "a.historylink").click()
    history = wait_for(driver, "#audit-history").text
    assert reason in history and staff.email in history
    assert "status: eligible → held" in history
    driver.save_screenshot(str(artifacts_dir / "history.png"))
    for name in ("landing.png", "booking.png", "history.png"):
        assert (artifacts_dir / name).stat().st_size > 0
