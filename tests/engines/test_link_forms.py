"""Forms, submit buttons, credentials and trailing-dot hosts in Firefox and WebKitGTK, each
click compared with the same click on the pages without xdlink (the whole table of link
forms runs in Chromium: tests/browser/test_link_forms.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.harness import SITE_A, Sites
from tests.browser.test_crossing import device_on_a
from tests.browser.test_link_forms import (
    ARRIVAL,
    CASES,
    Case,
    Journey,
    assert_like_baseline,
    journeys,
    landing,
)
from tests.engines.driver import Driver, evaluate, wait_for_url

pytestmark = pytest.mark.browser

SUBSET = [
    "GET form",
    "GET form, --fragment",
    "POST form",
    "button formaction GET",
    "button formaction POST",
    "formmethod post on a GET form",
    "cancelled, then form.submit() to the form's action",
    "requestSubmit(button)",
    "empty #",
    "credentials",
    "trailing dot",
]


def click(visitor: Driver, sites: Sites, case: Case) -> Journey:
    visitor.add_init_script(ARRIVAL)
    visitor.goto(sites.url(SITE_A))
    device = device_on_a(sites)
    visitor.click("#go")
    wait_for_url(visitor, f"{case.host}:{sites.server.port}/")
    return landing(sites, case, device, lambda expression: evaluate(visitor, expression))


@pytest.mark.parametrize("name", SUBSET)
def test_link_form_as_without_xdlink(
    visitors: Callable[[], Driver], sites: Sites, name: str
) -> None:
    case = CASES[name]
    baseline, journey = journeys(sites, case, lambda *args: click(visitors(), *args))
    assert_like_baseline(baseline, journey, case.joins)
