"""The admin's trial page in a browser (issue 13): it fits a 1,280 px wide screen."""

import pytest

from tests.browser import admin_log_in, screenshot
from tests.factories import change_url

pytestmark = pytest.mark.django_db(transaction=True)


def overflow(page):
    """How far the document is wider than the viewport, and the widest elements sticking out (to say why)."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [...document.querySelectorAll("body *")]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .slice(0, 8)
            .map(e => `${e.tagName.toLowerCase()}#${e.id}.${[...e.classList].join(".")} right=${Math.round(e.getBoundingClientRect().right)}`);
        return {scroll: document.documentElement.scrollWidth, width, out};
    }""")


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_trial_page_fits_the_screen_without_scrolling_sideways(live_server, watched, curator, width):  # noqa: F811
    from trials.models import Trial

    page = watched
    page.set_viewport_size({"width": width, "height": 900})
    admin_log_in(page, live_server)
    page.goto(live_server.url + change_url(Trial.objects.get(nct_id="NCT01219465")))
    page.wait_for_load_state("networkidle")
    measured = overflow(page)
    if width == 1280:
        screenshot(page, "admin-trial-page-1280")
    assert measured["scroll"] <= measured["width"], measured
    page.check_csp("trial page")
