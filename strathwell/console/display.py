"""Small formatting helpers for admin columns and read-only fields."""

import json
import re

from django.utils.html import format_html

from strathwell.audit.services import mask_secrets
from strathwell.money import format_cents

__all__ = ["format_cents", "humanize_ids", "masked_json"]


def masked_json(value):
    """JSON with every secret-looking key masked (Stripe payloads carry client secrets), as a
    preformatted block for a read-only field."""
    if value is None:
        return "-"
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(mask_secrets(value), indent=2, sort_keys=True, ensure_ascii=False),
    )


_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)


def humanize_ids(text: str | None, known: dict | None = None) -> str:
    """Free text written by the system (ledger memos, hold reasons) names objects by id: each
    id it knows (`{id: label}`, from the row's own relations) becomes its label in quotes, any
    other is shortened to `#1a2b3c4d` (the full id stays searchable on the list)."""
    if not text:
        return text or ""
    labels = {str(key): str(value) for key, value in (known or {}).items() if key}

    def replace(match):
        found = match.group(0).lower()
        return f"“{labels[found]}”" if found in labels else f"#{found[:8]}"

    return _UUID.sub(replace, text)
