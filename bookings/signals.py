"""Domain signals of the bookings app; the audit core records every send.

Both are sent with `send()` inside the transaction of the change, with kwargs `actor`, `action`,
`target`, `before`, `after` and `reason`:

- `booking_transitioned`: a booking's status changed (target = the Booking;
  before/after = {"status": ...}). Also sent once for a booking's creation (before=None).
- `booking_vendor_transitioned`: a booking line was added, answered, accepted or removed
  (target = the BookingVendor; before/after hold its status and prices, None when it did not
  exist before / does not exist after).
"""

from django.dispatch import Signal

from strathwell.audit.signals import connect_audited

booking_transitioned = Signal()
booking_vendor_transitioned = Signal()

connect_audited(booking_transitioned)
connect_audited(booking_vendor_transitioned)
