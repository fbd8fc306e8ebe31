from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from strathwell.api.views import health

api_v1 = [
    path("health", health, name="health"),
    path("", include("accounts.urls")),
    path("", include("trust.urls")),
    path("", include("vendors.urls")),
    path("", include("templates_app.urls")),
    path("", include("strathwell.uploads.urls")),
    path("", include("bookings.urls")),
    path("", include("payments.urls")),
    path("", include("disputes.urls")),
    path("", include("notifications.urls")),
    path("", include("backoffice.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "strathwell.api.exceptions.api_bad_request"
handler403 = "strathwell.api.exceptions.api_permission_denied"
handler404 = "strathwell.api.exceptions.api_not_found"
handler500 = "strathwell.api.exceptions.api_server_error"
