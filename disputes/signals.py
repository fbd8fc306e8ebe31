"""Domain signals of the disputes app; the audit core records every send.

`dispute_transitioned` is sent with `send()` inside the transaction of the change, with kwargs
`actor`, `action` (`dispute.open`, `dispute.start_review`, `dispute.resolve`, `dispute.refund`,
`dispute.adjust`), `target` (the Dispute), `before`/`after` (snapshots; before=None when the
dispute is opened) and `reason` (the dispute's reason on open, the resolution note after).
"""

from django.dispatch import Signal

from strathwell.audit.signals import connect_audited

dispute_transitioned = Signal()

connect_audited(dispute_transitioned)
