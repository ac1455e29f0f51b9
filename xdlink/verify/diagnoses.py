"""The reasons ``xdlink verify`` gives, each named once with the sentence a user reads."""

from __future__ import annotations

from enum import Enum

from xdlink.errors import XdlinkError


class Diagnosis(Enum):
    """Every reason verify reports, with its sentence; the fields in braces are filled in."""

    _value_: str

    # Misuse: the run cannot start, and the command line says so as a usage error.
    SITE_WITHOUT_FOLDER = "invalid --site {spec!r}: give HOST=DIR, e.g. shop.example=public"
    SITE_WILDCARD = "invalid --site {spec!r}: give the site's own host, not *."
    SITE_NOT_A_FOLDER = "invalid --site {spec!r}: {folder} is not a folder"
    SITE_NOT_HTTP = "invalid site {url!r}: give an http(s) address"
    TOO_FEW_SITES = "give at least two sites: --site HOST=DIR twice, or two URLs"
    NO_PLAYWRIGHT = (
        "xdlink verify needs Playwright: pip install playwright (xdlink's [verify] extra), "
        "then `playwright install chromium` (or pass --browser PATH to a Chromium)"
    )
    BROWSER_DID_NOT_START = (
        "cannot start Chromium ({error}): run `playwright install chromium`, "
        "or pass --browser PATH to an installed Chromium"
    )

    # A pair of sites with nothing to check.
    NO_LINK = "no link from {source} to {target}"

    # A pair of sites that does not join: the sites as given.
    START_PAGE_MISSING = (
        "the start page {start} answered 404 (is the site folder one level too high? "
        "{folder} has no {page})"
    )
    HOSTS_SWAPPED = (
        "the pages served as {host} link to {host} as another site: are the --site hosts swapped?"
    )

    # Opening a page.
    NAVIGATION_FAILED = "the navigation to {url} failed: {error}"
    NOT_FOUND = "{url} answered 404"
    NOT_FOUND_IN_FOLDER = "{url} answered 404 (is the site folder one level too high?)"

    # The xdlink script and the SDKs on a page ({sdk}: Mixpanel or PostHog).
    SCRIPT_MISSING = (
        "the xdlink script is missing on {host}: build the site with `xdlink build` and "
        "--domains {domains}"
    )
    SCRIPT_BLOCKED_BY_CSP = (
        "the Content-Security-Policy of {host} blocked the xdlink script: allow its hash "
        "(`xdlink build` prints it) or build with --external"
    )
    SCRIPT_DID_NOT_RUN = "the xdlink script on {host} did not run (see the browser console)"
    PAGE_WITHOUT_SDK = (
        "this page loads neither Mixpanel nor PostHog ({url}): nothing on {host} to join"
    )
    NO_SDK_IN_COMMON = (
        "{source} starts {sent} and this page of {target} starts {landed} ({url}): no SDK "
        "in common to join"
    )
    SDK_NOT_FETCHED = (
        "the {sdk} SDK could not be fetched from its CDN (no network?): pass "
        "{option} FILE ({host}: {error})"
    )
    SDK_NOT_LOADED = "the {sdk} SDK did not load on {host}"
    SDK_NOT_LOADED_OFFLINE = "the {sdk} SDK did not load on {host} (offline? pass {option} FILE)"
    SDK_NOT_INITIALISED = "the {sdk} SDK did not initialise on {host} (no {init} ran)"

    # The first site: the visitor to carry.
    SENDER_OPTED_OUT = (
        "{sdk}: the visitor has opted out of tracking on {host}: nothing is carried (a "
        "consent banner? pass --accept with the banner's accept button)"
    )
    SENDER_OPTED_OUT_AFTER_ACCEPT = (
        "{sdk}: the visitor has opted out of tracking on {host}: nothing is carried"
    )

    # The click.
    LINK_NOT_IN_PAGE = "the link to {href} is not in the page as loaded"
    CLICK_DID_NOT_ARRIVE = "clicking the link on {source} did not reach {target}"
    NOT_DECORATED = (
        "the link was not decorated at the click: the xdlink script on {source} does not "
        "list {target} (built with other --domains?)"
    )

    # The landing site.
    PARAMETER_LEFT_IN_ADDRESS = "the {param} parameter is still in {target}'s address bar"
    CONSENT_NOT_GIVEN = (
        "{sdk} on {target} is opted out until consent: pass --accept with the banner's "
        "accept button"
    )
    CONSENT_SELECTOR_UNMATCHED = (
        "{sdk} on {target} is opted out until consent, and no --accept selector matched "
        "there ({selectors})"
    )
    QUERY_DROPPED_BY_REDIRECT = (
        "the parameter did not arrive: a redirect on {target} dropped the query "
        "({sent} to {landed}): build with --fragment"
    )
    PARAMETER_DID_NOT_ARRIVE = "the parameter did not arrive on {target}"
    IDS_DIFFER = (
        "{sdk}: {event} on {target} has a different {key}: {landed!r}, where {source} sent {sent!r}"
    )

    # What the landing site's script said when it did not adopt the visitor's id: about
    # the link, or (SDK_REFUSALS) about one SDK's visitor there.
    REFUSED_EXPIRED = (
        "{target} refused the id: expired (more than --ttl seconds between click and landing)"
    )
    REFUSED_OTHER_BROWSER = "{target} refused the id: it was made in another browser"
    REFUSED_REFERRER = (
        "{target} refused the id: the visit did not come from one of its listed domains "
        "(is {source} in the --domains {target} was built with?)"
    )
    REFUSED_OPTED_OUT = "{sdk}: {target} adopted nothing: the visitor has opted out there"
    REFUSED_IDENTIFIED = "{sdk}: {target} adopted nothing: the visitor is already identified there"
    REFUSED_COOKIELESS = (
        "{sdk}: {target} adopted nothing: PostHog there runs with cookieless_mode 'always' "
        "and keeps no id to join"
    )
    REFUSED_MALFORMED = "{target} refused the id: the parameter was malformed"
    REFUSED_DOUBLED = "{target} refused the id: the parameter was given twice"
    REFUSED_UNKNOWN = "{target} refused the id: {word}"

    def say(self, **fields: object) -> str:
        """Return the sentence with its fields filled in."""
        return self.value.format(**fields)


# The words of the script's "xdlink: refused <word>" line (js/README.md names them).
REFUSALS = {
    "expired": Diagnosis.REFUSED_EXPIRED,
    "other-browser": Diagnosis.REFUSED_OTHER_BROWSER,
    "referrer": Diagnosis.REFUSED_REFERRER,
    "opted-out": Diagnosis.REFUSED_OPTED_OUT,
    "identified": Diagnosis.REFUSED_IDENTIFIED,
    "malformed": Diagnosis.REFUSED_MALFORMED,
    "doubled": Diagnosis.REFUSED_DOUBLED,
    "cookieless": Diagnosis.REFUSED_COOKIELESS,
}
# The refusals that speak of one SDK's visitor on the landing site, not of the link.
SDK_REFUSALS = frozenset({"opted-out", "identified", "cookieless"})


class VerifyFailure(XdlinkError):
    """A reason the proof could not be made, carried as its diagnosis and its sentence.

    Raised while a pair of sites is checked, it becomes that pair's "NOT joined" line and
    the run goes on; raised before the browser starts, it is misuse, which the command line
    reports as a usage error.
    """

    def __init__(self, diagnosis: Diagnosis, **fields: object) -> None:
        self.diagnosis = diagnosis
        self.reason = diagnosis.say(**fields)
        super().__init__(self.reason)
