// xdlink's browser script, the part every variant shares: one visitor counted as one user
// across the listed domains by the analytics SDKs a page starts.
//
// js/build.mjs composes this file with one module per SDK (mixpanel.js, posthog.js) into one
// template per combination: the modules go where SDK_MODULES stands, and MIXPANEL and
// POSTHOG become true or false as the variant holds that module, so that what a variant
// does not hold is left out of it. Each module gives the core four entry points:
//   <sdk>Carry()    its fields of the value to carry at a click, or nothing
//   <sdk>Held       the held value, while the SDK has not taken it (or the visitor refused)
//   <sdk>Land()     after the landing checks: takes its part of `held`, watches its SDK
//   <sdk>Join(x)    xdlink.join(x) for an instance of its SDK
// XDLINK_CONFIG becomes `{{ config|tojson }}`
// (ScriptConfig.to_json in xdlink/script.py):
//   d  a regular expression source matching the listed domains' hosts (a listed b.com
//      and its subdomains on a dot boundary; *.b.com its subdomains only; b.com. too)
//   p  parameter name      t  seconds a decorated link stays valid
//   f  carry the value in the #fragment instead of the query
//   s  public suffixes above the listed domains (github.io): domains no cookie may name
//
// The value:
//   format 1 (no PostHog id):  1<kind>.<Mixpanel device id>.<unix seconds>.<binding>
//   format 2 (a PostHog id):   2<kind>.<Mixpanel device id>.<PostHog id>.<PostHog session>.<unix seconds>.<binding>
//   kind "d": the sender's Mixpanel distinct_id is "$device:" + id (mixpanel-browser >= 2.46);
//   "i": it is the id itself (older SDKs); "n": no Mixpanel id (then empty). The PostHog id
//   is the visitor's anonymous (device) id, the session id is empty when none goes on.
//   The binding hashes everything before it with this browser's user agent, language and
//   time zone: a link opened in another browser, or after the TTL, joins nobody.
//
// Landing: a value is taken only from a page of a listed domain (document.referrer), checked,
// and held in the page; nothing is stored. Each SDK module hands its part to its SDK at the
// page's own init, and says when it is done with it.
//
// Debug mode: with localStorage.xdlink_debug == "1" on a domain, the console is told
// "xdlink: decorated <url>" at a click, and on landing "xdlink: held <id>" (checked,
// waiting for the SDK), "xdlink: adopted <id>" or "xdlink: refused <reason>"
// (doubled, malformed, referrer, expired, other-browser, opted-out, identified, cookieless).
// `xdlink verify` reads the same lines.
((config) => {
  // Reading storage throws where it is blocked; a debug line must never break the page.
  const log = (text, what = 'refused') => {
    try {
      localStorage.xdlink_debug == '1' && console.info('xdlink:', what, text);
    } catch {}
  };
  const doc = document;
  const host = location.hostname;
  const nav = navigator;
  const param = config.p;
  const domains = RegExp(config.d);
  const define = Object.defineProperty;
  // Ids: crypto.randomUUID, its 36-character fallback, and Mixpanel's older
  // time-random-useragent-screen-time hex form, which can hold "--" (a negative xor).
  // PostHog's ids are UUIDv7 unless the site makes its own (get_device_id): word characters.
  // Every variant reads both formats: a page with both SDKs may link to a page with one.
  const VALUE = /^((?:1([di])\.([\da-f-]{16,80})|2([din])\.([\da-f-]{16,80})?\.([\w-]{8,80})?\.([\da-f-]{36})?)\.(\d+))\./;
  // The value's fields: t what the binding signs, k Mixpanel's kind, m its device id,
  // p PostHog's id, s PostHog's session id, at the time it was made.
  const read = (value, m = VALUE.exec(value)) =>
    m && { t: m[1], k: m[2] || m[4], m: m[3] || m[5], p: m[6], s: m[7], at: m[8] };
  // Same browser, same clock: only rounding or a clock step puts a value in the future.
  const SKEW = 30;
  // Date() ends with the time zone: "GMT+0100 (Central European Standard Time)".
  const browser = nav.userAgent + nav.language + Date().slice(25);

  // Like the SDKs' cookie readers, the first matching cookie wins. Their values are
  // encodeURIComponent(JSON), which URLSearchParams decodes the same way.
  const readCookie = (key) => new URLSearchParams(doc.cookie.replace(/; /g, '&')).get(key);

  // "<format><fields>.<time>" followed by its binding to this browser.
  const sign = (text) => {
    let hash = 0;
    for (const char of text + browser) hash = (hash * 31 + char.charCodeAt()) | 0;
    return text + '.' + hash;
  };

  const fresh = (time, age = Date.now() / 1e3 - time) =>
    (age < config.t && age > -SKEW) || log('expired');

  // The value checked on landing, as it arrived.
  let held;

  SDK_MODULES;

  // The value to carry to `url`, or nothing when the link is not for a listed domain.
  const valueFor = (url) => {
    const to = url.hostname;
    if (/^http/.test(url.protocol)) {
      // Until consent the held value goes on, unchanged, to the next page of this site:
      // nothing is stored on the device (as Google's consent mode url_passthrough does).
      if (to == host) return ((MIXPANEL && mpHeld) || (POSTHOG && phHeld)) && held;
      const listed = domains.test(to);
      const m = MIXPANEL && listed && mpCarry();
      const p = POSTHOG && listed && phCarry();
      // Format 1 whenever there is no PostHog id: the only one a page built before PostHog
      // was joined reads.
      const fields = p ? '2' + (m || 'n.') + '.' + p : m && '1' + m;
      const value = fields && sign(fields + '.' + ((Date.now() / 1e3) | 0));
      if (read(value)) return value;
    }
  };

  let found;
  // The pairs of "?query" or "#fragment" (none when absent) but every `param` pair.
  const without = (text) =>
    text
      ? text
          .slice(1)
          .split('&')
          // A second value (crafted, or in both query and fragment) makes the first worthless.
          .filter((pair) => pair.split('=')[0] != param || ((found = found == null && pair.slice(param.length + 1)), 0))
      : [];
  // An empty "?" or "#" stays; one that only held the parameter goes.
  const part = (text, mark, pair, pairs = without(text)) => (pair && pairs.push(pair), pairs[0] == null ? '' : mark + pairs.join('&'));
  // `href` without the parameter, with `pair` in its query (or fragment with --fragment);
  // the rest byte for byte. Split by hand: the URL setters drop an empty "?" or "#".
  const rewrite = (href, pair) => {
    const [, base, query, hash] = /^([^?#]*)(\?[^#]*)?(#.*)?/.exec(href);
    return base + part(query, '?', !config.f && pair) + part(hash, '#', config.f && pair);
  };

  const decorate = (href) => {
    try {
      const url = new URL(href, doc.baseURI);
      const value = valueFor(url);
      if (value) return rewrite(url.href, param + '=' + value);
    } catch {}
    return href;
  };

  // The landing page takes the value only from a page of a listed domain: the navigation
  // must name its origin whatever the page's own policy (a Referrer-Policy header, a meta
  // referrer), which the element's attribute overrides; rel=noreferrer would win over it,
  // so it becomes noopener, which it implies.
  const restore = (element, rel = element.getAttribute('rel')) => {
    element.setAttribute('referrerpolicy', 'origin');
    /noreferrer/i.test(rel) && element.setAttribute('rel', rel.replace(/noreferrer/gi, 'noopener'));
  };

  const redirect = (element, attribute, href, owner = element, next = decorate(href)) =>
    next != href && (element.setAttribute(attribute, next), restore(owner), log(next, 'decorated'));

  // formdata knows no submitter: it follows the submit event in the same task, unless that
  // was cancelled (a later form.submit() goes to the form's own action).
  let submitted;
  const onEvent = (event) => {
    try {
      const target = event.target;
      const type = event.type;
      let value, link;
      if (type == 'submit') (submitted = event), setTimeout(() => (submitted = 0));
      if (type == 'submit' || event.formData) {
        // A submit button's formaction and formmethod win over its form's.
        const button = submitted && !submitted.defaultPrevented && submitted.target == target && submitted.submitter;
        const own = button && button.hasAttribute('formaction');
        const action = own ? button.formAction : target.action;
        if (((button && button.formMethod) || target.method) != 'get')
          type == 'submit' && redirect(own ? button : target, own ? 'formaction' : 'action', action, target);
        // A GET submission replaces the action's query with the fields and keeps its
        // fragment: the value goes as one field in either mode (the landing page reads both).
        else if (event.formData && (value = valueFor(new URL(action))))
          event.formData.set(param, value), restore(target), log(action, 'decorated');
      } else {
        // composedPath() reaches into open shadow roots; the innermost link is the one followed.
        link = event.composedPath().find((node) => /^a(rea)?$/.test(node.localName));
        // An SVG link's href is an SVGAnimatedString reflecting href or xlink:href;
        // SVG 2 lets a plain href win over xlink:href.
        redirect(link, 'href', link.href.baseVal || link.href);
      }
    } catch {}
  };

  // Landing. This runs before the SDKs' snippets, so no SDK can have read its storage yet.
  try {
    // document.URL keeps the credentials of https://user:pw@host/ that location drops:
    // replaceState refuses a URL whose credentials differ from the document's.
    const next = rewrite(doc.URL);
    if (found != null) {
      // At first load an entry has no state of its own yet.
      history.replaceState(null, '', next);
      const fields = read(found) || log(found === false ? 'doubled' : 'malformed');
      // Only the listed domains make values; a page elsewhere can compute a valid binding
      // for this browser (user agent, language and time zone are public), so where the
      // visitor comes from decides. A redirect keeps the referrer of its first request.
      const from = doc.referrer && new URL(doc.referrer).hostname;
      if ((from == host || domains.test(from) || log('referrer')) && fresh(fields.at) && (found == sign(fields.t) || log('other-browser'))) {
        held = found;
        log(fields.m || fields.p, 'held');
      }
    }
  } catch {}

  MIXPANEL && mpLand();
  POSTHOG && phLand();

  // formdata: GET forms (Chrome 77, Firefox 72, Safari 15); submit: the action of the others.
  // Enter on a link fires click, so no keyboard listener is needed; touch fires pointerdown.
  for (const type of 'pointerdown click auxclick contextmenu submit formdata'.split(' '))
    doc.addEventListener(type, onEvent, true);
  // xdlink.join(instance): each module takes its own SDK's instances.
  window.xdlink = {
    decorate,
    join: MIXPANEL && !POSTHOG ? mpJoin : (target) => (MIXPANEL && mpJoin(target), POSTHOG && phJoin(target)),
  };
})(XDLINK_CONFIG);
