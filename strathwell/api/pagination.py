from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """`?page=N&page_size=M` (max 100) → {count, next, previous, results}.

    A `page_size` that is not a positive whole number is refused (400 `validation_error`)
    instead of silently falling back to the default (empty is the default); above 100 it is
    capped at 100. A `page`
    that does not exist answers 404 (DRF's "Invalid page.")."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # absent or empty (`?page_size=`): the default, like an empty filter
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: ["A positive whole number."]})
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page (default {self.page_size}; values above "
                    f"{self.max_page_size} are capped at {self.max_page_size})."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        # Every key is always in the page (`next`/`previous` null at the ends): say so, so a
        # typed client does not see them as optional.
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]
        return paginated
