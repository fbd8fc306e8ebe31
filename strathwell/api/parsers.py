"""JSON request bodies: whatever a client sends, a bad document is a 400, never a 500.

DRF's own parser lets a deeply nested document raise `RecursionError` (500) and hands `\\u0000`
and `1e400` (infinity) on to serializers and PostgreSQL, which refuses both in text and jsonb.
`load_json` is the one strict reading of a JSON document (also used by the Stripe webhook).
"""

from __future__ import annotations

import codecs
import json
import math

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Real payloads are a few levels deep (a booking's vendors, a Stripe event's object); anything
# deeper is refused before a serializer, json.dumps or PostgreSQL has to recurse through it.
MAX_JSON_DEPTH = 32


class JSONDocumentError(ValueError):
    """The text is not an acceptable JSON document (the message says why)."""


def _reject_constant(name: str):
    raise JSONDocumentError(f"{name} is not valid JSON.")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JSONDocumentError(f"The number {literal[:40]} is out of range.")
    return value


def _finite_float_or_literal(literal: str) -> float | str:
    value = float(literal)
    return value if math.isfinite(value) else literal


def load_json(
    text: str | bytes,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    allow_nul: bool = False,
    keep_out_of_range: bool = False,
):
    """Parse a JSON document strictly: standard JSON only (no NaN/Infinity), finite numbers,
    at most `max_depth` levels of nesting and, unless `allow_nul`, no U+0000 in any string or
    key. Raises JSONDocumentError (a ValueError) for anything else.

    `keep_out_of_range`: a number beyond a double's range (`1e400`) is kept as its literal
    text instead of refused (for documents that must be stored whatever they hold)."""
    parse_float = _finite_float_or_literal if keep_out_of_range else _finite_float
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=parse_float)
    except RecursionError as exc:
        raise JSONDocumentError(f"The document is nested deeper than {max_depth} levels.") from exc
    except JSONDocumentError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:  # includes json.JSONDecodeError
        raise JSONDocumentError(f"Not valid JSON: {exc}") from exc
    _check_document(data, max_depth=max_depth, allow_nul=allow_nul)
    return data


def _check_document(data, *, max_depth: int, allow_nul: bool) -> None:
    """Walk the document iteratively (no recursion, whatever its depth)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise JSONDocumentError(f"The document is nested deeper than {max_depth} levels.")
            if isinstance(value, dict):
                for key, item in value.items():
                    if not allow_nul and "\x00" in key:
                        raise JSONDocumentError("Strings must not contain the NUL character.")
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and not allow_nul and "\x00" in value:
            raise JSONDocumentError("Strings must not contain the NUL character (\\u0000).")


def strip_nul(data):
    """The document with every U+0000 removed from its strings and keys (PostgreSQL refuses
    them in jsonb). Iterative, for documents already checked for depth."""
    if isinstance(data, str):
        return data.replace("\x00", "")
    if not isinstance(data, dict | list):
        return data
    root = {} if isinstance(data, dict) else []
    stack = [(data, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(value, dict | list):
                copy = {} if isinstance(value, dict) else []
                stack.append((value, copy))
            else:
                copy = value.replace("\x00", "") if isinstance(value, str) else value
            if isinstance(target, dict):
                target[key.replace("\x00", "")] = copy
            else:
                target.append(copy)
    return root


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, reading documents with `load_json`: 400 `invalid_payload` for any
    document that is not plain, finite, reasonably shallow JSON without NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return load_json(text)
        except (JSONDocumentError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
