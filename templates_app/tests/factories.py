import factory

from templates_app.models import Template, TemplateItem


class TemplateFactory(factory.django.DjangoModelFactory):
    """A published template; `TemplateFactory(items=[(name, category, cents), ...])` sets its
    items (default: two items, 300_000 + 120_000 cents)."""

    class Meta:
        model = Template
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"template-{n}")
    title = factory.Sequence(lambda n: f"Template {n}")
    event_type = "wedding"
    summary = "A summary."
    description = "A long description of the plan."
    guest_count_min = 50
    guest_count_max = 150
    is_published = True

    @factory.post_generation
    def items(obj, create, extracted, **kwargs):
        if not create:
            return
        rows = (
            extracted
            if extracted is not None
            else [("Venue hire", "venue", 300_000), ("Catering", "catering", 120_000)]
        )
        TemplateItem.objects.bulk_create(
            TemplateItem(template=obj, name=n, category=c, estimated_cost_cents=v, position=i)
            for i, (n, c, v) in enumerate(rows)
        )
