"""The analytics SDKs xdlink joins, and the browser script's variant for a set of them."""

from __future__ import annotations

import enum


class Sdk(enum.Enum):
    """An analytics SDK a page can start; the value is how messages name it."""

    MIXPANEL = "Mixpanel"
    POSTHOG = "PostHog"


class Variant(enum.Enum):
    """The browser script composed for a set of SDKs (js/build.mjs): its template."""

    MIXPANEL = "xdlink.js.j2"
    POSTHOG = "xdlink-posthog.js.j2"
    MIXPANEL_POSTHOG = "xdlink-mixpanel-posthog.js.j2"

    @classmethod
    def of(cls, sdks: frozenset[Sdk]) -> Variant:
        """The variant a page starting ``sdks`` needs. A page whose HTML starts none (an
        app that bundles its SDK and calls xdlink.join, a consent banner that inserts the
        snippet later) gets the script for both: either SDK may turn up there. Its links
        carry what a Mixpanel page reads whenever there is no PostHog id to carry."""
        if not sdks or sdks == {Sdk.MIXPANEL, Sdk.POSTHOG}:
            return cls.MIXPANEL_POSTHOG
        return cls.MIXPANEL if Sdk.MIXPANEL in sdks else cls.POSTHOG
