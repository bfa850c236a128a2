"""The URL converter for NCT ids in paths (`<nct:nct_id>`), registered on import."""

from django.urls import register_converter

from eligibility.vocabulary import NCT_DIGITS


class NctIdConverter:
    # The pattern of trials.models.nct_validator: anything else names no trial, so the URL does not match (a 404)
    # instead of reaching a query. A NUL byte there would be a server error on PostgreSQL.
    regex = NCT_DIGITS

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(NctIdConverter, "nct")
