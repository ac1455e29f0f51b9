"""The analytics SDKs on a page as verify reads them: which ones the page starts, each
one's state and visitor, and what the first event on the landing site must carry.

The page is asked at run time (``window.mixpanel``, ``window.posthog``), so a deployed
site and a built folder are read alike, and so is an SDK a consent banner inserts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xdlink.sdks import Sdk

if TYPE_CHECKING:
    from playwright.sync_api import Page

# The loaded Mixpanel instance (named ones hang off the global) and its ids.
_MIXPANEL_STATE = """() => {
  const m = window.mixpanel;
  if (!m) return {state: 'absent'};
  const loaded = [m, ...Object.values(m)].find((v) => v && v.__loaded);
  if (!loaded) return {state: Array.isArray(m) ? 'stub' : 'not initialised'};
  return {state: 'loaded', opted_out: loaded.has_opted_out_tracking(),
          ids: {$device_id: String(loaded.get_property('$device_id')),
                distinct_id: String(loaded.get_distinct_id())}};
}"""
# The loaded PostHog instance (the default one, or a named one, posthog.<name>) and its
# ids; the snippet's stub is an array until posthog-js replaces it.
_POSTHOG_STATE = """() => {
  const p = window.posthog;
  if (!p) return {state: 'absent'};
  const loaded = [p, ...Object.values(p)].find((v) => v && v.__loaded && v.get_session_id);
  if (!loaded) return {state: Array.isArray(p) ? 'stub' : 'not initialised'};
  return {state: 'loaded', opted_out: loaded.has_opted_out_capturing(),
          ids: {$device_id: String(loaded.get_property('$device_id')),
                distinct_id: String(loaded.get_distinct_id()),
                $session_id: String(loaded.get_session_id())}};
}"""


@dataclass(frozen=True)
class SdkState:
    """One SDK on a page: "absent", "stub", "not initialised" or "loaded", and once loaded
    the visitor's ids and whether the visitor opted out."""

    sdk: Sdk
    state: str
    ids: dict[str, str] = field(default_factory=dict)
    opted_out: bool = False

    @property
    def loaded(self) -> bool:
        return self.state == "loaded"


@dataclass(frozen=True)
class Probe:
    """What verify knows of one SDK: how to read it in a page, the option that serves a
    local copy of it, the call that starts it, and the event it proves the join with."""

    sdk: Sdk
    script: str  # evaluated in the page: {state, ids, opted_out}
    option: str
    init: str
    first_event: str  # how the report names the event it compares

    def on(self, page: Page) -> SdkState:
        """Read the SDK's state in the page."""
        found: dict[str, object] = page.evaluate(self.script)
        ids = found.get("ids")
        return SdkState(
            self.sdk,
            str(found["state"]),
            {str(key): str(value) for key, value in ids.items()} if isinstance(ids, dict) else {},
            bool(found.get("opted_out")),
        )

    def expected(self, sender: dict[str, str]) -> dict[str, str]:
        """The ids the first event on the landing site must carry, from the sender's: the
        same ones for Mixpanel; for PostHog the sender's anonymous id as both distinct_id
        and $device_id (never an identified visitor's own id), and the same session."""
        if self.sdk is Sdk.MIXPANEL:
            return dict(sender)
        device = sender.get("$device_id", "")
        return {
            "distinct_id": device,
            "$device_id": device,
            "$session_id": sender.get("$session_id", ""),
        }


PROBES = {
    Sdk.MIXPANEL: Probe(
        Sdk.MIXPANEL, _MIXPANEL_STATE, "--mixpanel-sdk", "mixpanel.init", "the first event"
    ),
    Sdk.POSTHOG: Probe(
        Sdk.POSTHOG, _POSTHOG_STATE, "--posthog-sdk", "posthog.init", "the first $pageview"
    ),
}


def states(page: Page) -> dict[Sdk, SdkState]:
    """Every SDK the page starts (a snippet's stub counts), by SDK, in PROBES' order."""
    found = {sdk: probe.on(page) for sdk, probe in PROBES.items()}
    return {sdk: state for sdk, state in found.items() if state.state != "absent"}


def names(sdks: Collection[Sdk]) -> str:
    """Name SDKs the way the report does: "Mixpanel", "Mixpanel and PostHog"."""
    return " and ".join(sdk.value for sdk in PROBES if sdk in sdks)
