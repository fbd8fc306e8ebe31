"""The API's JSON renderer: DRF's `JSONRenderer` output, byte for byte, written by orjson.

orjson writes the same bytes as `json.dumps(..., ensure_ascii=False, separators=(",", ":"))`
for every string (checked over every code point) and for the native types; what it would
write differently goes through DRF's own encoder or DRF's own renderer:

- date, time and date-time values (orjson would keep microseconds DRF truncates) and
  dataclasses are passed to DRF's `JSONEncoder.default`, as are lazy strings, Decimals, sets;
- anything orjson refuses (non-string keys, integers beyond 64 bits, lone surrogates) and
  indented output (`Accept: application/json; indent=4`) are rendered by DRF's renderer;
- U+2028 / U+2029 are escaped afterwards, as DRF does.

The one known difference: a float whose shortest form has a negative exponent below -4 is
written `0.00001` where `json` writes `1e-05` (the same number). The API has no such floats
(its few floats are rounded latencies and ages in seconds).
"""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_default = JSONEncoder().default


class ORJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.ensure_ascii or not self.compact or not self.strict:
            return super().render(data, accepted_media_type, renderer_context)
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out
