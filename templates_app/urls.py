from rest_framework.routers import SimpleRouter

from templates_app import views

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("templates", views.TemplateViewSet, basename="template")
router.register("admin/templates", views.AdminTemplateViewSet, basename="admin-template")

urlpatterns = [*router.urls]
