import django_filters
from django.core.cache import cache
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from strathwell.api.filters import StrictBooleanFilter
from strathwell.api.permissions import HasActiveSubscription, IsAdmin, IsOrganizer, staff_can
from templates_app import catalogue, services
from templates_app import serializers as s
from templates_app.models import Template, TemplateItem


class TemplateFilter(django_filters.FilterSet):
    event_type = django_filters.CharFilter(field_name="event_type", lookup_expr="iexact")
    guests = django_filters.NumberFilter(
        method="for_guests", label="Templates whose guest range includes this many guests"
    )

    class Meta:
        model = Template
        fields = ["event_type", "guests"]

    def for_guests(self, queryset, name, value):
        return queryset.filter(guest_count_min__lte=value, guest_count_max__gte=value)


class AdminTemplateFilter(TemplateFilter):
    is_published = StrictBooleanFilter(field_name="is_published")

    class Meta(TemplateFilter.Meta):
        fields = ["event_type", "guests", "is_published"]


def _with_items(queryset):
    return queryset.prefetch_related(
        Prefetch("items", queryset=TemplateItem.objects.order_by("position", "id"))
    )


@extend_schema_view(
    list=extend_schema(summary="Published templates (summary fields)", tags=["templates"]),
    retrieve=extend_schema(
        summary="A template with its items (subscribed organizers, admins)", tags=["templates"]
    ),
)
class TemplateViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = TemplateFilter
    lookup_value_converter = "uuid"

    def get_permissions(self):
        if self.action == "list":
            return [AllowAny()]
        # Organizers need an active subscription (403 subscription_required); vendors are
        # refused by role (403 permission_denied); admins pass.
        return [IsOrganizer(), HasActiveSubscription()]

    def get_serializer_class(self):
        if self.action == "list":
            return s.TemplateSummarySerializer
        return s.TemplateDetailSerializer

    def list(self, request, *args, **kwargs):
        """The same page for every caller: served from the shared cache (`catalogue`)."""
        key = catalogue.page_key(request)
        data = cache.get(key)
        if data is None:
            response = super().list(request, *args, **kwargs)
            cache.set(key, response.data, timeout=catalogue.PAGE_SECONDS)
            return response
        return Response(data)

    def get_queryset(self):
        queryset = Template.objects.with_estimated_total()
        user = self.request.user
        if self.action == "list" or not staff_can(user, "template.view"):
            queryset = queryset.published()
        if self.action == "list":
            return queryset.defer("description")
        return _with_items(queryset)


@extend_schema_view(
    list=extend_schema(summary="All templates, published or not (staff)", tags=["admin"]),
    retrieve=extend_schema(summary="A template (staff)", tags=["admin"]),
    create=extend_schema(
        request=s.TemplateWriteSerializer,
        responses={201: s.AdminTemplateSerializer},
        tags=["admin"],
    ),
    partial_update=extend_schema(
        request=s.TemplateWriteSerializer,
        responses={200: s.AdminTemplateSerializer},
        tags=["admin"],
    ),
    destroy=extend_schema(tags=["admin"]),
)
class AdminTemplateViewSet(viewsets.ModelViewSet):
    """Staff authoring: every create, update and delete is audited with before/after."""

    permission_classes = [IsAdmin]
    staff_operations = {
        "list": "template.view",
        "retrieve": "template.view",
        "create": "template.add",
        "partial_update": "template.change",
        "destroy": "template.delete",
    }
    serializer_class = s.AdminTemplateSerializer
    filterset_class = AdminTemplateFilter
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return _with_items(Template.objects.with_estimated_total()).order_by("-created_at", "id")

    def _answer(self, template, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=template.pk)
        return Response(s.AdminTemplateSerializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = s.TemplateWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.create_template(actor=request.user, data=serializer.validated_data)
        return self._answer(template, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        template = self.get_object()
        serializer = s.TemplateWriteSerializer(template, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        template = services.update_template(
            template=template, actor=request.user, data=serializer.validated_data
        )
        return self._answer(template)

    def destroy(self, request, *args, **kwargs):
        services.delete_template(template=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
