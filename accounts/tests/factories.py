import factory
from django.utils import timezone

from accounts.models import Subscription, User

DEFAULT_PASSWORD = "Str0ng-Passw0rd!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = User.Role.ORGANIZER
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """An active subscription of the manual provider (what `/subscription/start` makes without
    Stripe)."""

    class Meta:
        model = Subscription

    user = factory.SubFactory("accounts.tests.factories.OrganizerFactory")
    status = Subscription.Status.ACTIVE
    plan = Subscription.Plan.MONTHLY
    provider = Subscription.Provider.MANUAL
    started_at = factory.LazyFunction(timezone.now)


class OrganizerFactory(UserFactory):
    role = User.Role.ORGANIZER

    class Params:
        subscribed = factory.Trait(
            subscription=factory.RelatedFactory(SubscriptionFactory, factory_related_name="user")
        )


class VendorUserFactory(UserFactory):
    role = User.Role.VENDOR


class AdminFactory(UserFactory):
    role = User.Role.ADMIN
    is_staff = True
    is_superuser = True
