"""URLconf for the envelope tests: the real API plus views that raise each kind of error."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from strathwell.api.permissions import IsAdmin, require_confirmation
from strathwell.exceptions import InvalidTransition


@api_view(["POST"])
@permission_classes([IsAdmin])
def confirm_view(request):
    require_confirmation(request)
    return Response({"done": True})


@api_view(["POST"])
@permission_classes([AllowAny])
def transition_view(request):
    raise InvalidTransition("Cannot ship a canceled booking.", details={"status": "canceled"})


@api_view(["POST"])
@permission_classes([AllowAny])
def django_validation_view(request):
    raise DjangoValidationError({"event_date": ["Must be in the future."]})


@api_view(["GET"])
@permission_classes([AllowAny])
def crash_view(request):
    raise RuntimeError("secret internals")


urlpatterns = [
    path("api/v1/_test/confirm", confirm_view),
    path("api/v1/_test/transition", transition_view),
    path("api/v1/_test/django-validation", django_validation_view),
    path("api/v1/_test/crash", crash_view),
    path("", include("strathwell.urls")),
]

handler400 = "strathwell.api.exceptions.api_bad_request"
handler403 = "strathwell.api.exceptions.api_permission_denied"
handler404 = "strathwell.api.exceptions.api_not_found"
handler500 = "strathwell.api.exceptions.api_server_error"
