import factory

from accounts.tests.factories import VendorUserFactory
from vendors.models import ServiceProfile, Vendor, VenueProfile


class VendorFactory(factory.django.DjangoModelFactory):
    """An approved venue by default; `VendorFactory(service=True)` for a service vendor,
    `verification_status="pending"` for an unverified one. The matching profile is created."""

    class Meta:
        model = Vendor
        skip_postgeneration_save = True

    class Params:
        service = factory.Trait(vendor_type=Vendor.VendorType.SERVICE)

    user = factory.SubFactory(VendorUserFactory)
    vendor_type = Vendor.VendorType.VENUE
    business_name = factory.Sequence(lambda n: f"Vendor {n}")
    description = "A reliable partner for events."
    city = "Austin"
    verification_status = Vendor.VerificationStatus.APPROVED

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if not create:
            return
        if obj.vendor_type == Vendor.VendorType.VENUE:
            VenueProfile.objects.create(
                vendor=obj,
                address=kwargs.get("address", "1200 Market Street"),
                capacity=kwargs.get("capacity", 300),
                base_price_cents=kwargs.get("base_price_cents", 500_000),
                amenities=kwargs.get("amenities", ["parking", "stage"]),
            )
        else:
            ServiceProfile.objects.create(
                vendor=obj,
                category=kwargs.get("category", "catering"),
                service_area=kwargs.get("service_area", "Austin metro"),
                base_price_cents=kwargs.get("base_price_cents", 150_000),
            )


def VenueFactory(**kwargs):
    return VendorFactory(vendor_type=Vendor.VendorType.VENUE, **kwargs)


def ServiceVendorFactory(**kwargs):
    return VendorFactory(vendor_type=Vendor.VendorType.SERVICE, **kwargs)
