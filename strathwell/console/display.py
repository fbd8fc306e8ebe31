"""Small formatting helpers for admin columns and read-only fields."""

import json

from django.utils.html import format_html

from strathwell.audit.services import mask_secrets


def format_cents(cents: int | None, currency: str | None = None) -> str:
    """`123456, "usd"` → `1,234.56 USD` (integer arithmetic: money is never a float)."""
    if cents is None:
        return "-"
    sign = "-" if cents < 0 else ""
    major, minor = divmod(abs(int(cents)), 100)
    amount = f"{sign}{major:,}.{minor:02d}"
    return f"{amount} {currency.upper()}" if currency else amount


def masked_json(value):
    """JSON with every secret-looking key masked (Stripe payloads carry client secrets), as a
    preformatted block for a read-only field."""
    if value is None:
        return "-"
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(mask_secrets(value), indent=2, sort_keys=True, ensure_ascii=False),
    )
