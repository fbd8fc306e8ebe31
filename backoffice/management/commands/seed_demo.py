"""`manage.py seed_demo`: create the demo world (idempotent) and print the demo logins.

The world itself is built by `backoffice.demo`."""

from django.core.management.base import BaseCommand

from backoffice import demo


class Command(BaseCommand):
    help = "Create the idempotent demo world (users, vendors, templates, bookings, money)."

    def handle(self, *args, **options):
        result = demo.seed_demo()
        if result.created_anything:
            made = ", ".join(f"{n} {what}" for what, n in sorted(result.created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo world created: {made}."))
        else:
            self.stdout.write("Demo world already present; nothing created.")
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD}):")
        for login in result.logins:
            self.stdout.write(f"  {login['email']:<32} {login['role']:<10} {login['note']}")
