from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable, ValuesIterable
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

_TOTAL = "_strathwell_page_total"
_MAX_OFFSET = 2**63 - 1  # OFFSET/LIMIT are 64-bit in PostgreSQL and SQLite


class WindowCountPaginator(Paginator):
    """Django's paginator with the total counted by the page query itself
    (`COUNT(*) OVER ()`): one query a page instead of `SELECT COUNT(*)` + the page, the same
    count, pages and errors. A page past the end has no rows, hence no total: page 1 then
    means "no results" (count 0), any later page is `EmptyPage`, as Django decides it.
    Anything the window cannot count the same way (DISTINCT, UNION, `values_list()`,
    orphans, a plain list) goes through Django's own path."""

    def page(self, number):
        queryset = self.object_list
        if (
            self.orphans
            or not isinstance(queryset, QuerySet)
            or queryset.query.distinct
            or queryset.query.combinator
            or queryset._iterable_class not in (ModelIterable, ValuesIterable)
            or "count" in self.__dict__  # already counted: nothing to save
        ):
            return super().page(number)
        number = self._validate_shape(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > _MAX_OFFSET:  # no database takes it: Django's 404 path
            return super().page(number)
        annotated = queryset.annotate(**{_TOTAL: Window(Count("*"))})
        rows = list(annotated[bottom : bottom + self.per_page])
        if rows:
            first = rows[0]
            total = first[_TOTAL] if isinstance(first, dict) else getattr(first, _TOTAL)
            for row in rows:
                if isinstance(row, dict):
                    del row[_TOTAL]
                else:
                    delattr(row, _TOTAL)
        elif number == 1:
            total = 0
        else:
            raise EmptyPage(self.error_messages["no_results"])
        self.__dict__["count"] = total  # the cached_property, filled from the window
        return self._get_page(rows, number, self)

    def _validate_shape(self, number) -> int:
        """Django's `validate_number` up to the part that needs the count."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class StandardPagination(PageNumberPagination):
    """`?page=N&page_size=M` (max 100) → {count, next, previous, results}.

    A `page_size` that is not a positive whole number is refused (400 `validation_error`)
    instead of silently falling back to the default (empty is the default); above 100 it is
    capped at 100. A `page`
    that does not exist answers 404 (DRF's "Invalid page.")."""

    django_paginator_class = WindowCountPaginator
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
