from django.apps import AppConfig


class TemplatesAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "templates_app"
    verbose_name = "Templates"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from templates_app import catalogue
        from templates_app.models import Template, TemplateItem

        for model in (Template, TemplateItem):
            uid = f"catalogue-{model.__name__}"
            post_save.connect(catalogue.changed, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(catalogue.changed, sender=model, dispatch_uid=f"{uid}-delete")
