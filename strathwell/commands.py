"""Base class of the management commands that change data."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class WriteCommand(BaseCommand):
    """A management command that writes: refused (exit status 1, nothing done) while
    READ_ONLY_MODE is on, like API writes and console saves."""

    def execute(self, *args, **options):
        if settings.READ_ONLY_MODE:
            raise CommandError(
                "READ_ONLY_MODE is on: this command changes data, so it was refused and "
                "nothing was changed."
            )
        return super().execute(*args, **options)
