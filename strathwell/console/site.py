from django.contrib import admin


class StrathwellAdminSite(admin.AdminSite):
    site_header = "Strathwell staff console"
    site_title = "Strathwell staff"
    index_title = "Operations"
