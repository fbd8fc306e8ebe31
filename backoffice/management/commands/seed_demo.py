"""`manage.py seed_demo`: create the demo world (idempotent) and print the demo logins.

The world itself is built by `backoffice.demo`. It makes a superuser whose password is
published, so it runs only with ENABLE_DEMO_OPS=true and never with APP_ENV=prod (`make run`
turns the flag on for this command)."""

from django.conf import settings
from django.core.management.base import CommandError

from backoffice import demo
from strathwell.commands import WriteCommand


class Command(WriteCommand):
    help = "Create the idempotent demo world (users, vendors, templates, bookings, money)."

    def handle(self, *args, **options):
        if not settings.ENABLE_DEMO_OPS or settings.APP_ENV == "prod":
            raise CommandError(
                "seed_demo creates a superuser with a published password: it runs only with "
                "ENABLE_DEMO_OPS=true and APP_ENV other than prod; nothing was created."
            )
        result = demo.seed_demo()
        if result.created_anything:
            made = ", ".join(f"{n} {what}" for what, n in sorted(result.created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo world created: {made}."))
        else:
            self.stdout.write("Demo world already present; nothing created.")
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in result.logins:
            self.stdout.write(f"  {login['email']:<32} {login['role']:<10} {login['note']}")
