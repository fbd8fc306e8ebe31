import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from strathwell.api.permissions import IsAdmin, IsVendorUser
from vendors import availability, services
from vendors import serializers as s
from vendors.models import Vendor

RANGE_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description="First date, YYYY-MM-DD (default: today).",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.DATE,
        description="Last date, YYYY-MM-DD (default: from + 90 days). `from ≤ to`; the range "
        "spans at most 366 days, else 400 validation_error.",
    ),
]


def _date_range(request) -> tuple:
    serializer = s.DateRangeQuerySerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["from"], serializer.validated_data["to"]


class DirectoryFilter(django_filters.FilterSet):
    vendor_type = django_filters.ChoiceFilter(choices=Vendor.VendorType.choices)
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    q = django_filters.CharFilter(method="search", label="Search name and description")
    available_on = django_filters.DateFilter(
        method="filter_available_on",
        label="YYYY-MM-DD: only vendors with capacity left on that date",
    )

    class Meta:
        model = Vendor
        fields = ["vendor_type", "city", "q", "available_on"]

    def filter_available_on(self, queryset, name, value):
        return availability.exclude_full_on(queryset, value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(business_name__icontains=value) | Q(description__icontains=value))


class AdminVendorFilter(DirectoryFilter):
    verification_status = django_filters.ChoiceFilter(choices=Vendor.VerificationStatus.choices)

    class Meta(DirectoryFilter.Meta):
        fields = ["verification_status", "vendor_type", "city", "q", "available_on"]


@extend_schema_view(
    list=extend_schema(summary="Approved vendors (the public directory)", tags=["vendors"]),
    retrieve=extend_schema(summary="An approved vendor with its profile", tags=["vendors"]),
)
class VendorDirectoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Approved vendors only, to anyone: an unapproved vendor is indistinguishable from a
    missing one (404)."""

    permission_classes = [AllowAny]
    serializer_class = s.VendorSerializer
    filterset_class = DirectoryFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return Vendor.objects.approved().with_profiles()

    @extend_schema(
        summary="Dates on which an approved vendor is full (public: dates only)",
        parameters=RANGE_PARAMETERS,
        responses={200: s.AvailabilitySerializer},
        tags=["vendors"],
        description="The dates in the range on which the vendor has no capacity left "
        "(blocked by the vendor, or held or booked by bookings up to its daily capacity). "
        "No booking ids, no reasons.",
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def availability(self, request, pk=None):
        vendor = self.get_object()
        start, end = _date_range(request)
        return Response(
            s.AvailabilitySerializer(
                {
                    "vendor_id": vendor.pk,
                    "unavailable": availability.unavailable_dates(vendor, start, end),
                    "from": start,
                    "to": end,
                }
            ).data
        )


class OwnVendorMixin:
    """The calling vendor user's own vendor (404 before onboarding)."""

    permission_classes = [IsVendorUser]

    def get_object(self) -> Vendor:
        vendor = Vendor.objects.with_profiles().filter(user=self.request.user).first()
        if vendor is None:
            raise NotFound("You have not onboarded a vendor yet: POST /vendors/onboarding.")
        return vendor


class OnboardingView(APIView):
    permission_classes = [IsVendorUser]

    @extend_schema(
        request=s.OnboardingSerializer, responses={201: s.OwnVendorSerializer}, tags=["vendors"]
    )
    def post(self, request):
        serializer = s.OnboardingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vendor = services.onboard_vendor(user=request.user, data=serializer.validated_data)
        return Response(s.OwnVendorSerializer(vendor).data, status=status.HTTP_201_CREATED)


class VendorMeView(OwnVendorMixin, APIView):
    """The calling vendor user's own vendor (404 before onboarding)."""

    @extend_schema(responses={200: s.OwnVendorSerializer}, tags=["vendors"])
    def get(self, request):
        return Response(s.OwnVendorSerializer(self.get_object()).data)

    @extend_schema(
        request=s.VendorUpdateSerializer,
        responses={200: s.OwnVendorSerializer},
        tags=["vendors"],
        description="Edit the own vendor; while `needs_changes` the edit resubmits it "
        "(→ `pending`). `photo_keys` must be keys of the caller's own uploaded images. "
        "`daily_capacity` (1–50; venues always 1) cannot go below what a coming date "
        "already holds (400 validation_error naming the dates).",
    )
    def patch(self, request):
        vendor = self.get_object()
        serializer = s.VendorUpdateSerializer(
            data=request.data, partial=True, context={"vendor": vendor}
        )
        serializer.is_valid(raise_exception=True)
        vendor = services.update_own_vendor(
            vendor=vendor, actor=request.user, data=serializer.validated_data
        )
        return Response(s.OwnVendorSerializer(vendor).data)


class VendorCalendarView(OwnVendorMixin, APIView):
    @extend_schema(
        summary="My calendar: every non-open date in a range",
        parameters=RANGE_PARAMETERS,
        responses={200: s.CalendarEntrySerializer(many=True)},
        tags=["vendors"],
        description="One entry per blocked date (with its note) and one per booking that "
        "holds (`held`: approved, unpaid) or booked (`booked`: paid) a unit of the vendor's "
        "capacity, in date order. A vendor with a daily capacity above 1 may have several "
        "entries on one date; the date stays bookable until they fill it.",
    )
    def get(self, request):
        vendor = self.get_object()
        start, end = _date_range(request)
        entries = availability.calendar(vendor, start, end)
        return Response(s.CalendarEntrySerializer(entries, many=True).data)


class BlockedDatesView(OwnVendorMixin, APIView):
    @extend_schema(
        summary="Block a date (the vendor takes no booking on it)",
        request=s.BlockDateSerializer,
        responses={
            201: s.BlockedDateSerializer,
            200: OpenApiResponse(
                s.BlockedDateSerializer, description="Already blocked: its note was updated."
            ),
            409: OpenApiResponse(
                description="vendor_unavailable: a booking holds or booked that date "
                "(details: vendor_ids, date, status); nothing was blocked"
            ),
        },
        tags=["vendors"],
        description="Blocks the whole date (every unit of the daily capacity). A past date is "
        "400 validation_error.",
    )
    def post(self, request):
        vendor = self.get_object()
        serializer = s.BlockDateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry, created = availability.block_date(
            vendor,
            serializer.validated_data["date"],
            note=serializer.validated_data["note"],
            actor=request.user,
        )
        return Response(
            s.BlockedDateSerializer(entry).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BlockedDateView(OwnVendorMixin, APIView):
    @extend_schema(
        summary="Unblock a date",
        parameters=[
            OpenApiParameter(
                "date", OpenApiTypes.DATE, OpenApiParameter.PATH, description="YYYY-MM-DD"
            )
        ],
        responses={204: None},
        tags=["vendors"],
        description="404 not_found when the date is not blocked; 400 validation_error when it "
        "is not a YYYY-MM-DD date.",
    )
    def delete(self, request, date: str):
        vendor = self.get_object()
        try:
            day = serializers.DateField().to_internal_value(date)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"date": exc.detail}) from exc
        if not availability.unblock_date(vendor, day, actor=request.user):
            raise NotFound(f"{day.isoformat()} is not blocked.")
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="All vendors (staff)", tags=["admin"]),
    retrieve=extend_schema(summary="A vendor (staff)", tags=["admin"]),
)
class AdminVendorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAdmin]
    staff_operations = {
        "list": "vendor.view",
        "retrieve": "vendor.view",
        "approve": "vendor.approve",
        "needs_changes": "vendor.request_changes",
    }
    serializer_class = s.AdminVendorSerializer
    filterset_class = AdminVendorFilter
    lookup_value_converter = "uuid"

    def get_queryset(self):
        return Vendor.objects.with_profiles().select_related("user").order_by("-created_at", "id")

    def _verify(self, request, serializer_class, method_name: str) -> Response:
        """Validate the notes, call the vendor's transition, answer the vendor re-read."""
        vendor = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        getattr(vendor, method_name)(actor=request.user, notes=serializer.validated_data["notes"])
        return Response(self.get_serializer(self.get_queryset().get(pk=vendor.pk)).data)

    @extend_schema(
        request=s.ApproveSerializer, responses={200: s.AdminVendorSerializer}, tags=["admin"]
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._verify(request, s.ApproveSerializer, "approve")

    @extend_schema(
        request=s.NeedsChangesSerializer, responses={200: s.AdminVendorSerializer}, tags=["admin"]
    )
    @action(detail=True, methods=["post"], url_path="needs-changes")
    def needs_changes(self, request, pk=None):
        return self._verify(request, s.NeedsChangesSerializer, "request_changes")
