// xdlink's browser script: one Mixpanel visitor counted as one user across the listed domains.
//
// `npm run build` in js/ minifies this file into xdlink/templates/xdlink.js.j2, where
// XDLINK_CONFIG becomes `{{ config|tojson }}` (ScriptConfig.to_json in xdlink/script.py):
//   d  listed domains, lower-case ASCII, "*.x.com" for subdomains only
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
((config) => {
  const doc = document;
  const loc = location;
  const param = config.p;
  const mp = config.m;
  const DEVICE = '$device:';
  // Ids: crypto.randomUUID (>= 2.62), its 36-character fallback, and the older
  // time-random-useragent-screen-time hex form, which can hold "--" (a negative xor).
  const VALUE = /^1([di])\.([\da-f-]{16,80})\.(\d+)\./i;
  // Same browser, same clock: only rounding or a clock step puts a value in the future.
  const SKEW = 30;
  const browser =
    navigator.userAgent + navigator.language + Intl.DateTimeFormat().resolvedOptions().timeZone;

  // Like the SDK's _.cookie.get, the first matching cookie wins.
  const readCookie = (key) => {
    const pair = doc.cookie.split('; ').find((pair) => !pair.indexOf(key + '='));
    return pair && decodeURIComponent(pair.slice(key.length + 1));
  };

  const readState = () => JSON.parse((mp.l ? localStorage.getItem(mp.n) : readCookie(mp.n)) || '{}');

  // gdpr-utils.js: the opt-out key holds "0" after opt_out_tracking(), in localStorage or in a
  // cookie depending on opt_out_tracking_persistence_type: check both.
  const optedOut = () => readCookie(mp.o) == 0 || localStorage.getItem(mp.o) == 0;

  const sign = (kind, id, time) => {
    const text = '1' + kind + '.' + id + '.' + time;
    let hash = 0;
    for (const char of text + browser) hash = (hash * 31 + char.charCodeAt()) | 0;
    return text + '.' + hash;
  };

  // [kind, device id] of this visitor, or nothing. Never the user id: that is often an email.
  const device = () => {
    let state = mp ? !optedOut() && readState() : {};
    if (state && !state.distinct_id) {
      const global = window.mixpanel;
      // Named instances (mixpanel.init(token, config, name)) hang off the global object.
      const instance = [global, ...Object.values(global || 0)].find((value) => value && value.__loaded);
      state = instance && !instance.has_opted_out_tracking() && instance.persistence.props;
    }
    if (state) {
      const distinct = state.distinct_id + '';
      const id = state.$device_id || (!state.$user_id && distinct.replace(DEVICE, ''));
      return [distinct == id ? 'i' : 'd', id];
    }
  };

  // The value to carry to `url`, or nothing when the link is not for a listed domain.
  const valueFor = (url) => {
    const host = url.hostname;
    const carried =
      /^http/.test(url.protocol) &&
      host != loc.hostname &&
      config.d.some((domain) =>
        domain[0] == '*' ? host.endsWith(domain.slice(1)) : ('.' + host).endsWith('.' + domain),
      ) &&
      device();
    const value = carried && sign(carried[0], carried[1], (Date.now() / 1e3) | 0);
    if (VALUE.test(value)) return value;
  };

  let found;
  // Drops every `param` pair from "?query" or "#fragment" and keeps the rest byte for byte.
  const without = (text) =>
    text
      .slice(1)
      .split('&')
      .filter((pair) => pair.split('=')[0] != param || ((found = pair.slice(param.length + 1)), 0))
      .join('&');
  const join = (text, pair) => (pair ? (text && text + '&') + pair : text);
  const rewrite = (url, pair) => {
    const query = without(url.search);
    const fragment = without(url.hash);
    url.search = join(query, !config.f && pair);
    url.hash = join(fragment, config.f && pair);
    return url.href;
  };

  const decorate = (href) => {
    try {
      const url = new URL(href, doc.baseURI);
      const value = valueFor(url);
      if (value) return rewrite(url, param + '=' + value);
    } catch {}
    return href;
  };

  const onEvent = (event) => {
    try {
      const form = event.target;
      if (event.type == 'submit') {
        const action = form.action;
        if (form.method == 'get') {
          // A GET submission replaces the action's query with the form's fields.
          const value = valueFor(new URL(action));
          if (value)
            (
              form.elements[param] ||
              form.appendChild(Object.assign(doc.createElement('input'), { type: 'hidden', name: param }))
            ).value = value;
        } else {
          const next = decorate(action);
          if (next != action) form.setAttribute('action', next);
        }
      } else {
        // composedPath() reaches into open shadow roots; the innermost link is the one followed.
        const link = event.composedPath().find((node) => /^(a|area)$/.test(node.localName));
        // An SVG link's href is an SVGAnimatedString reflecting href or xlink:href.
        const href = link.href.baseVal || link.href;
        const next = decorate(href);
        // SVG 2: a plain href wins over xlink:href.
        if (next != href) link.setAttribute('href', next);
      }
    } catch {}
  };

  // Landing. This runs before the Mixpanel snippet: the SDK's first event already carries the id.
  try {
    const next = rewrite(new URL(loc));
    if (found != null) {
      history.replaceState(history.state, '', next);
      const [, kind, id, time] = VALUE.exec(found);
      const age = Date.now() / 1e3 - time;
      if (mp && !optedOut() && age < config.t && age > -SKEW && found == sign(kind, id, time)) {
        const state = readState();
        const distinct = state.distinct_id;
        const known = state.$device_id;
        // Someone identified on this domain stays who they are.
        if (!state.$user_id && [, known, DEVICE + known].includes(distinct)) {
          state.$device_id = id;
          // Keep the id format this domain's SDK already uses; a new visitor gets the sender's.
          state.distinct_id = (distinct ? distinct == known : kind == 'i') ? id : DEVICE + id;
          const json = JSON.stringify(state);
          if (mp.l) localStorage.setItem(mp.n, json);
          else {
            // The SDK reads the first matching cookie only: remove every copy (the last, empty
            // domain attribute is ignored, which removes the host-only one), then write under
            // exactly the domain the SDK would use: utils.js extract_domain, the same in 2.45
            // and 2.83, unless cookie_domain is set.
            const host = loc.hostname;
            const labels = host.split('.');
            for (const i in [0, ...labels])
              doc.cookie = mp.n + '=;max-age=0;path=/;domain=' + labels.slice(i).join('.');
            const base =
              !mp.h &&
              host.match(
                /^(com|org|.{5,})$/.test(labels.pop())
                  ? /[a-z\d][a-z\d-]*\.[a-z]+$/i
                  : /[a-z\d][a-z\d-]+\.[a-z.]{2,6}$/i,
              );
            doc.cookie =
              mp.n +
              '=' +
              encodeURIComponent(json) +
              ';max-age=31536000;path=/;domain=' +
              (mp.c || (base ? '.' + base : '')) +
              (mp.a || '');
          }
        }
      }
    }
  } catch {}

  for (const type of 'pointerdown click auxclick keydown contextmenu submit'.split(' '))
    doc.addEventListener(type, onEvent, true);
  window.xdlink = { decorate };
})(XDLINK_CONFIG);
