"""Project-wide middleware: safeguards that hold for every page of every app."""

from django.utils.cache import add_never_cache_headers, patch_cache_control


def no_store_when_signed_in(get_response):
    """`Cache-Control: no-store` on every response to a signed-in user: pages of health data stay out of the
    browser's and any proxy's cache (the back button after logging out shows nothing)."""

    def middleware(request):
        response = get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response

    return middleware
