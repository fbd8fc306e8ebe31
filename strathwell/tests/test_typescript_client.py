"""A real typed frontend client in CI: the TypeScript types are generated (openapi-typescript)
from the schema the code produces now, the journey in `clients/typescript/src/journey.ts`
type-checks under strict TypeScript (`tsc --noEmit`), and it runs with Node against the app
under `live_server`, every response validated against its declared schema."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from accounts.tests.factories import DEFAULT_PASSWORD
from templates_app.tests.factories import TemplateFactory
from vendors.tests.factories import VendorFactory

CLIENT_DIR = Path(django_settings.BASE_DIR) / "clients" / "typescript"
BIN = CLIENT_DIR / "node_modules" / ".bin"

pytestmark = [pytest.mark.tsclient, pytest.mark.django_db(transaction=True)]


def run(args, *, env=None, timeout=180):
    result = subprocess.run(
        args, cwd=CLIENT_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, args))} failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def node_client():
    """The pinned client toolchain (`npm ci` from the committed lock when not installed yet:
    `.ci/run` installs it before the tests)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are required (clients/typescript); see README.md")
    if not (BIN / "tsx").exists():
        run(["npm", "ci", "--no-audit", "--no-fund"], timeout=300)
    return CLIENT_DIR


@pytest.fixture
def schema_json(tmp_path, node_client):
    path = tmp_path / "openapi.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(path),
    )
    run([BIN / "openapi-typescript", path, "-o", "src/schema.d.ts"])
    return path


def test_typescript_client_type_checks_and_runs_the_journey(settings, live_server, schema_json):
    settings.SUBSCRIPTION_PROVIDER = "manual"
    vendor = VendorFactory()
    TemplateFactory()

    run([BIN / "tsc", "--noEmit", "-p", "tsconfig.json"])

    env = {
        **os.environ,
        "API_BASE_URL": live_server.url,
        "OPENAPI_SCHEMA_JSON": str(schema_json),
        "VENDOR_EMAIL": vendor.user.email,
        "VENDOR_PASSWORD": DEFAULT_PASSWORD,
        "VENDOR_ID": str(vendor.pk),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    output = run([BIN / "tsx", "src/journey.ts"], env=env)
    assert "journey ok" in output, output
