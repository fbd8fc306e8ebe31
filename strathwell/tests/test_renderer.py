"""`ORJSONRenderer` writes DRF's `JSONRenderer` bytes (issue #15): generated data of every
shape the API's responses hold, plus the values orjson cannot write itself."""

import datetime
import decimal
import uuid

from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from strathwell.api.renderers import ORJSONRenderer

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.uuids()
    | st.dates()
    | st.datetimes(timezones=st.just(datetime.UTC) | st.none())
    | st.times()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: abs(f) >= 1e-4 or f == 0)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_same_bytes_as_drf_for_generated_documents(document):
    assert ORJSONRenderer().render(document) == JSONRenderer().render(document)


def test_same_bytes_for_what_orjson_hands_back():
    odd = {
        "lazy": gettext_lazy("This field is required."),
        "error": [ErrorDetail("Bad «value»", code="invalid")],
        "ret": ReturnDict({"a": 1}, serializer=None),
        "set": {3},
        "big": 2**70,  # beyond 64 bits: DRF's renderer writes it
        "keys": {1: "int key"},  # non-string keys: DRF's renderer too
        "separators": "a\u2028b\u2029c",
        "money": decimal.Decimal("12.30"),
        "when": datetime.datetime(2026, 12, 7, 10, 30, 15, 123456, tzinfo=datetime.UTC),
        "id": uuid.UUID(int=7),
    }
    assert ORJSONRenderer().render(odd) == JSONRenderer().render(odd)
    assert b"\\u2028" in ORJSONRenderer().render(odd)


def test_indented_output_is_drfs():
    data = {"a": [1, 2]}
    accepted = "application/json; indent=4"
    assert ORJSONRenderer().render(data, accepted) == JSONRenderer().render(data, accepted)
    assert b"\n    " in ORJSONRenderer().render(data, accepted)


def test_nothing_renders_as_empty_bytes():
    assert ORJSONRenderer().render(None) == b""
