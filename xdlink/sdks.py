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
        """The variant a page starting ``sdks`` needs. A page that starts none gets the
        Mixpanel script, as before PostHog was joined: it still catches a Mixpanel snippet
        a consent banner inserts later, and its links carry what a Mixpanel page reads."""
        if Sdk.POSTHOG not in sdks:
            return cls.MIXPANEL
        return cls.MIXPANEL_POSTHOG if Sdk.MIXPANEL in sdks else cls.POSTHOG
