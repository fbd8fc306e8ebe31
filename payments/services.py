"""Money flows that span apps. Lock order everywhere: Booking → BookingVendor → Payment →
Payout → Dispute (Saleor's lock_objects idea), so two flows never deadlock."""


def on_booking_completed(booking, *, actor=None):
    """Called by Booking.complete/force_complete inside its transaction: completion payouts of
    the booking become eligible (unless a dispute is open). Filled in by the payments issue."""


def on_booking_canceled(booking, *, actor=None, reason=""):
    """Called by Booking.cancel/admin_cancel inside its transaction. Filled in by payments."""
