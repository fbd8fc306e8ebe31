from rest_framework.routers import SimpleRouter

from disputes import views

router = SimpleRouter(trailing_slash=False)
router.register("disputes", views.DisputeViewSet, basename="dispute")
router.register("admin/disputes", views.AdminDisputeViewSet, basename="admin-dispute")

urlpatterns = router.urls
