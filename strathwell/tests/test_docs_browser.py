"""The API docs render with no network: Swagger UI and ReDoc come from drf-spectacular-sidecar
(static files served by the app), not a CDN. Headless Chromium runs with background networking
off and this machine has no route to a CDN, so a page that needed one would stay blank."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 20


def _wait_text(driver, css, text):
    WebDriverWait(driver, WAIT_SECONDS).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_operations_offline(chromium_driver, live_server, artifacts_dir):
    driver = chromium_driver
    driver.get(f"{live_server.url}/api/docs/")
    _wait_text(driver, ".swagger-ui", "/api/v1/auth/signup")
    operations = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    paths = {op.text.replace("\u200b", "") for op in operations}
    assert "/api/v1/auth/signup" in paths and "/api/v1/bookings" in paths
    scripts = [s.get_attribute("src") for s in driver.find_elements(By.TAG_NAME, "script")]
    assert all(src.startswith(live_server.url) for src in scripts if src), scripts
    driver.save_screenshot(str(artifacts_dir / "swagger.png"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_redoc_renders_operations_offline(chromium_driver, live_server, artifacts_dir):
    driver = chromium_driver
    driver.get(f"{live_server.url}/api/redoc/")
    _wait_text(driver, "body", "/auth/signup")
    scripts = [s.get_attribute("src") for s in driver.find_elements(By.TAG_NAME, "script")]
    assert all(src.startswith(live_server.url) for src in scripts if src), scripts
    driver.save_screenshot(str(artifacts_dir / "redoc.png"))
