from strathwell.console.tests.conftest import staff, staff_client  # noqa: F401  (fixtures)
