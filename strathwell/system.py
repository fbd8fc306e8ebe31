"""`SYSTEM`: the actor of what the platform does by itself (the periodic jobs).

Not a user: nobody can sign in as it, it owns no rows and passes no permission check. A model
method that the jobs call accepts it where it would otherwise require a person (e.g.
`Booking.start` on the event date), and the audit trail records it as the actor `system`
(`AuditLog.actor_email == "system"`, `actor` empty), with the job named in the row's reason.
"""

from __future__ import annotations

SYSTEM_ACTOR_NAME = "system"


class SystemActor:
    """The platform acting on its own (one instance: `SYSTEM`)."""

    pk = None
    id = None
    email = SYSTEM_ACTOR_NAME
    is_authenticated = False
    is_active = True
    is_admin = False
    is_staff = False

    def __str__(self) -> str:
        return SYSTEM_ACTOR_NAME

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()


def is_system(actor) -> bool:
    return isinstance(actor, SystemActor)
