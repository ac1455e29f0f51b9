// xdlink's browser script: one Mixpanel visitor counted as one user across the listed domains.
//
// `npm run build` in js/ minifies this file into xdlink/templates/xdlink.js.j2, where
// XDLINK_CONFIG becomes `{{ config|tojson }}` (ScriptConfig.to_json in xdlink/script.py):
//   d  a regular expression source matching the listed domains' hosts (a listed b.com
//      and its subdomains on a dot boundary; *.b.com its subdomains only)
//   p  parameter name      t  seconds a decorated link stays valid
//   f  carry the value in the #fragment instead of the query
//   m  where the page's mixpanel.init() keeps its state, absent when the token is unknown:
//      n storage name, o opt-out key, l 1 for localStorage persistence, c cookie_domain,
//      h 1 for a host-only cookie (cross_subdomain_cookie: false), a extra cookie attributes
//
// The value, format 1:  1<kind>.<device id>.<unix seconds>.<binding>
//   kind "d": the sender's distinct_id is "$device:" + id (mixpanel-browser >= 2.46);
//   kind "i": its distinct_id is the id itself (older SDKs).
//   The binding hashes everything before it with this browser's user agent, language and
//   time zone: a link opened in another browser, or after the TTL, joins nobody.
//
// Debug mode: with localStorage.xdlink_debug == "1" on a domain, the console is told
// "xdlink: decorated <url>" at a click, and on landing "xdlink: adopted <device id>" or
// "xdlink: refused <reason>" (doubled, malformed, no-token, expired, other-browser,
// opted-out, identified). `xdlink verify` reads the same lines.
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
  const mp = config.m;
  const DEVICE = '$device:';
  // Ids: crypto.randomUUID (>= 2.62), its 36-character fallback, and the older
  // time-random-useragent-screen-time hex form, which can hold "--" (a negative xor).
  const VALUE = /^(1([di])\.([\da-f-]{16,80})\.(\d+))\./;
  // Same browser, same clock: only rounding or a clock step puts a value in the future.
  const SKEW = 30;
  // Date() ends with the time zone: "GMT+0100 (Central European Standard Time)".
  const browser = nav.userAgent + nav.language + Date().slice(25);

  // Like the SDK's _.cookie.get, the first matching cookie wins. Its value is
  // encodeURIComponent(JSON), which URLSearchParams decodes the same way.
  const readCookie = (key) => new URLSearchParams(doc.cookie.replace(/; /g, '&')).get(key);

  // The SDK's stored state, or false for a visitor who opted out. gdpr-utils.js: the opt-out
  // key holds "0" after opt_out_tracking(), in localStorage or in a cookie depending on
  // opt_out_tracking_persistence_type: check both. Storage is read lazily: it throws where
  // cookies are blocked.
  const readState = () =>
    (readCookie(mp.o) || localStorage[mp.o]) != 0 &&
    JSON.parse((mp.l ? localStorage[mp.n] : readCookie(mp.n)) || '{}');

  // "1<kind>.<id>.<time>" followed by its binding to this browser.
  const sign = (text) => {
    let hash = 0;
    for (const char of text + browser) hash = (hash * 31 + char.charCodeAt()) | 0;
    return text + '.' + hash;
  };

  // "<kind>.<device id>" of this visitor, or nothing. Never the user id: often an email.
  const device = () => {
    const global = window.mixpanel;
    // Named instances (mixpanel.init(token, config, name)) hang off the global object.
    const instance = [global, ...Object.values(global || 0)].find((value) => value && value.__loaded);
    const state = mp
      ? readState()
      : instance && !instance.has_opted_out_tracking() && instance.persistence.props;
    if (state) {
      const distinct = state.distinct_id + '';
      const id = state.$device_id || (!state.$user_id && distinct.replace(DEVICE, ''));
      return (distinct == id ? 'i.' : 'd.') + id;
    }
  };

  // The value to carry to `url`, or nothing when the link is not for a listed domain.
  const valueFor = (url) => {
    const to = url.hostname;
    const carried =
      /^http/.test(url.protocol) &&
      to != host &&
      RegExp(config.d).test(to) &&
      device();
    const value = carried && sign('1' + carried + '.' + ((Date.now() / 1e3) | 0));
    if (VALUE.test(value)) return value;
  };

  let found;
  // Drops every `param` pair from "?query" or "#fragment" and keeps the rest byte for byte.
  const without = (text) =>
    text
      .slice(1)
      .split('&')
      // A second value (crafted, or in both query and fragment) makes the first worthless.
      .filter((pair) => pair.split('=')[0] != param || ((found = found == null && pair.slice(param.length + 1)), 0))
      .join('&');
  const join = (text, pair) => (pair ? (text && text + '&') + pair : text);
  const rewrite = (url, pair) => (
    (url.search = join(without(url.search), !config.f && pair)),
    (url.hash = join(without(url.hash), config.f && pair)),
    url.href
  );

  const decorate = (href) => {
    try {
      const url = new URL(href, doc.baseURI);
      const value = valueFor(url);
      if (value) return rewrite(url, param + '=' + value);
    } catch {}
    return href;
  };

  const redirect = (element, attribute, href, next = decorate(href)) =>
    next != href && (element.setAttribute(attribute, next), log(next, 'decorated'));

  const onEvent = (event) => {
    try {
      const target = event.target;
      let value, link;
      if (event.formData) {
        // A GET submission replaces the action's query with the form's fields: add one.
        if (target.method == 'get' && (value = valueFor(new URL(target.action))))
          event.formData.set(param, value);
      } else if (event.type == 'submit') redirect(target, 'action', target.action);
      else {
        // composedPath() reaches into open shadow roots; the innermost link is the one followed.
        link = event.composedPath().find((node) => /^a(rea)?$/.test(node.localName));
        // An SVG link's href is an SVGAnimatedString reflecting href or xlink:href;
        // SVG 2 lets a plain href win over xlink:href.
        redirect(link, 'href', link.href.baseVal || link.href);
      }
    } catch {}
  };

  // Landing. This runs before the Mixpanel snippet: the SDK's first event already carries the id.
  try {
    const next = rewrite(new URL(location));
    if (found != null) {
      // At first load an entry has no state of its own yet.
      history.replaceState(null, '', next);
      const [, text, kind, id, time] =
        VALUE.exec(found) || log(found === false ? 'doubled' : 'malformed');
      const age = Date.now() / 1e3 - time;
      // Without the page's token the storage name is unknown: guessing could write into
      // another project's state, so such a page only strips the parameter.
      const state =
        (mp || log('no-token')) &&
        ((age < config.t && age > -SKEW) || log('expired')) &&
        (found == sign(text) || log('other-browser')) &&
        (readState() || log('opted-out'));
      // Someone identified on this domain stays who they are: $user_id since SDK 2.46,
      // before that a distinct_id that is not the device id.
      const known = state && state.$device_id;
      if (
        state &&
        ((!state.$user_id && [, known, DEVICE + known].includes(state.distinct_id)) ||
          log('identified'))
      ) {
        // The distinct_id the sender's SDK uses, so that both domains send the same one (what
        // Original ID Merge goes by; Simplified ID Merge goes by $device_id).
        state.distinct_id = kind == 'i' ? id : DEVICE + id;
        state.$device_id = id;
        const json = JSON.stringify(state);
        if (mp.l) localStorage[mp.n] = json;
        else {
          // The SDK reads the first matching cookie only: remove every copy (the last, empty
          // domain attribute is ignored, which removes the host-only one), then write under
          // exactly the domain the SDK would use: utils.js extract_domain, the same in 2.45
          // and 2.83, unless cookie_domain is set.
          const labels = host.split('.');
          const setCookie = (value, domain) =>
            (doc.cookie = mp.n + '=' + value + ';path=/;domain=' + domain + (mp.a || ''));
          for (const i in [0, ...labels]) setCookie(';max-age=0', labels.slice(i).join('.'));
          const base =
            !mp.h &&
            // location.hostname is lower-case: the SDK's /i flag changes nothing.
            host.match(
              /^(com|org|.{5,})$/.test(labels.pop())
                ? /[a-z\d][a-z\d-]*\.[a-z]+$/
                : /[a-z\d][a-z\d-]+\.[a-z.]{2,6}$/,
            );
          setCookie(encodeURIComponent(json) + ';max-age=31536000', mp.c || (base ? '.' + base : ''));
        }
        log(id, 'adopted');
      }
    }
  } catch {}

  // formdata: GET forms (Chrome 77, Firefox 72, Safari 15); submit: the action of the others.
  // Enter on a link fires click, so no keyboard listener is needed; touch fires pointerdown.
  for (const type of 'pointerdown click auxclick contextmenu submit formdata'.split(' '))
    doc.addEventListener(type, onEvent, true);
  window.xdlink = { decorate };
})(XDLINK_CONFIG);
