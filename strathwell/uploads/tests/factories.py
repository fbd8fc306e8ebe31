import io
import uuid

import factory
from PIL import Image

from accounts.tests.factories import VendorUserFactory
from strathwell.uploads.models import Upload


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    """A real, valid image file (uploads are checked by content)."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class UploadFactory(factory.django.DjangoModelFactory):
    """An uploaded PNG of a vendor user (the bytes are not stored anywhere)."""

    class Meta:
        model = Upload

    owner = factory.SubFactory(VendorUserFactory)
    key = factory.LazyAttribute(lambda o: f"uploads/{o.owner.pk}/{uuid.uuid4().hex}.png")
    filename = "photo.png"
    content_type = "image/png"
    size_bytes = 1024
    status = Upload.Status.UPLOADED
