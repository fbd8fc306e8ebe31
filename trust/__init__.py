"""Trust and safety: screening of user-written text for off-platform contact and payment, and
the moderation log (`ModerationEvent`) that screening writes. Sits low in the app layering:
it imports only from `strathwell` (and Django/DRF), never from the marketplace apps above it."""
