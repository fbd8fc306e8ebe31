import uuid

import factory

from accounts.tests.factories import VendorUserFactory
from strathwell.uploads.models import Upload


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
