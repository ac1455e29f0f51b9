// xdlink's browser script: one Mixpanel visitor counted as one user across the listed domains.
//
// `npm run build` in js/ minifies this file into xdlink/templates/xdlink.js.j2, where
// XDLINK_CONFIG becomes `{{ config|tojson }}` (ScriptConfig.to_json in xdlink/script.py):
//   d  a regular expression source matching the listed domains' hosts (a listed b.com
//      and its subdomains on a dot boundary; *.b.com its subdomains only; b.com. too)
//   p  parameter name      t  seconds a decorated link stays valid
//   f  carry the value in the #fragment instead of the query
//   s  public suffixes above the listed domains (github.io): domains no cookie may name
// Nothing in it depends on a page: where Mixpanel keeps its state is read from the page's
// own mixpanel.init(token, config) as it runs, so every page of a site has the same script.
//
// The value, format 1:  1<kind>.<device id>.<unix seconds>.<binding>
//   kind "d": the sender's distinct_id is "$device:" + id (mixpanel-browser >= 2.46);
//   kind "i": its distinct_id is the id itself (older SDKs).
//   The binding hashes everything before it with this browser's user agent, language and
//   time zone: a link opened in another browser, or after the TTL, joins nobody.
//
// Landing: a value is taken only from a page of a listed domain (document.referrer), checked,
// and held in the page; nothing is stored. It is handed to Mixpanel at the page's
// mixpanel.init, through the snippet's stub (also a snippet a consent banner inserts later)
// or through xdlink.join(instance) for a bundled SDK. If Mixpanel tracks from its start
// (consent given, or never asked), the SDK's state is written then, just before the SDK
// reads it, so that its first event carries the sender's ids. Otherwise the value stays
// held, is carried to the next page of the same site on its links, and is adopted when the
// site calls opt_in_tracking(): the SDK sends $opt_in with the sender's ids, then stores
// them itself. opt_out_tracking() drops it.
//
// Debug mode: with localStorage.xdlink_debug == "1" on a domain, the console is told
// "xdlink: decorated <url>" at a click, and on landing "xdlink: held <device id>" (checked,
// waiting for Mixpanel), "xdlink: adopted <device id>" or "xdlink: refused <reason>"
// (doubled, malformed, referrer, expired, other-browser, opted-out, identified).
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

  // Where the page's Mixpanel keeps its state, read from its first mixpanel.init(token,
  // config) as that runs (mixpanel-persistence.js, gdpr-utils.js, utils.js _.cookie.set):
  //   n storage name, o opt-out key, l localStorage persistence, c cookie_domain,
  //   h a host-only cookie (cross_subdomain_cookie: false), a extra cookie attributes,
  //   e the cookie's lifetime (cookie_expiration days, 365 by default; 0 or null: a
  //     session cookie), b Mixpanel waits for consent (opt_out_tracking_by_default),
  //   x the browser sends Do Not Track and the init does not say ignore_dnt: the SDK then
  //     tracks nothing and keeps nothing, whatever is decided (gdpr-utils.js: true, 1, "1"
  //     or "yes" in navigator.doNotTrack or window.doNotTrack; its msDoNotTrack is IE's)
  // Nothing until that init: the value is then held, and the id of a visitor leaving is
  // read from a loaded SDK.
  let mp;
  const learn = (token, options, days = options.cookie_expiration === undefined ? 365 : options.cookie_expiration) =>
    (mp = {
      n: 'mp_' + (options.persistence_name || token + '_mixpanel'),
      o: (options.opt_out_tracking_cookie_prefix || '__mp_opt_in_out_') + token,
      l: options.persistence == 'localStorage',
      c: options.cookie_domain,
      h: options.cross_subdomain_cookie == 0,
      a: options.cross_site_cookie ? ';SameSite=None;secure' : options.secure_cookie ? ';secure' : '',
      e: days ? ';max-age=' + days * 86400 : '',
      b: options.opt_out_tracking_by_default,
      x: !options.ignore_dnt && [nav.doNotTrack, window.doNotTrack].some((flag) => /^(1|yes|true)$/.test(flag)),
    });

  // The visitor's decision as the SDK keeps it (gdpr-utils.js): "1" opted in, "0" opted out,
  // by choice or by opt_out_tracking_by_default alike; nothing before either. In
  // localStorage or in a cookie depending on opt_out_tracking_persistence_type: check both.
  const decision = () => readCookie(mp.o) || localStorage[mp.o];

  // The SDK's stored state, or false for a visitor who opted out. Storage is read lazily:
  // it throws where cookies are blocked.
  const readState = () =>
    decision() != 0 && JSON.parse((mp.l ? localStorage[mp.n] : readCookie(mp.n)) || '{}');

  // "1<kind>.<id>.<time>" followed by its binding to this browser.
  const sign = (text) => {
    let hash = 0;
    for (const char of text + browser) hash = (hash * 31 + char.charCodeAt()) | 0;
    return text + '.' + hash;
  };

  // "<kind>.<device id>" of this visitor, or nothing. Never the user id: often an email.
  const device = () => {
    const instance = started();
    const state = mp
      ? readState()
      : instance && !instance.has_opted_out_tracking() && instance.persistence.props;
    if (state) {
      const distinct = state.distinct_id + '';
      const id = state.$device_id || (!state.$user_id && distinct.replace(DEVICE, ''));
      // An identified visitor's distinct_id no longer shows the form; the SDK's code does:
      // identify() refuses the "$device:" prefix since 2.46, the release that brought it.
      const bare =
        distinct == id ||
        (distinct != DEVICE + id && instance && !/\$device:/.test(Object.getPrototypeOf(instance).identify));
      return (bare ? 'i.' : 'd.') + id;
    }
  };

  // The value checked on landing, as it arrived, until Mixpanel takes it or the visitor
  // refuses; the SDK instance given to xdlink.join() last.
  let held, joined;

  // The value to carry to `url`, or nothing when the link is not for a listed domain.
  const valueFor = (url) => {
    const to = url.hostname;
    if (/^http/.test(url.protocol)) {
      // Until consent the held value goes on, unchanged, to the next page of this site:
      // nothing is stored on the device (as Google's consent mode url_passthrough does).
      if (to == host) return held;
      const carried = domains.test(to) && device();
      const value = carried && sign('1' + carried + '.' + ((Date.now() / 1e3) | 0));
      if (VALUE.test(value)) return value;
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

  const fresh = (time, age = Date.now() / 1e3 - time) =>
    (age < config.t && age > -SKEW) || log('expired');

  // Someone identified on this domain stays who they are: a $user_id, or a distinct_id that
  // is not the device id (set by register, or by SDKs older than $user_id).
  const anonymous = (state, known = state.$device_id) =>
    (!state.$user_id && [, known, DEVICE + known].includes(state.distinct_id)) || log('identified');

  // The distinct_id the sender's SDK uses, so that both domains send the same one (what
  // Original ID Merge goes by; Simplified ID Merge goes by $device_id).
  const ids = (kind, id) => ({ distinct_id: kind == 'i' ? id : DEVICE + id, $device_id: id });

  // A started SDK: one of the page's instances (named ones, mixpanel.init(token, config,
  // name), hang off the global object), or the one given to xdlink.join().
  const started = (global = window.mixpanel) =>
    [joined, global, ...Object.values(global || 0)].find((value) => value && value.__loaded);

  // What was written for an SDK that has not started yet is undone if it never does (a
  // blocked SDK): by the load event, which a script the snippet inserted before it delays,
  // or when the page goes. The SDK that starts rewrites it with its own attributes, or
  // removes it (disable_persistence), so nothing of xdlink's outlives what the SDK keeps.
  const undoUnlessStarted = (undo) => {
    const check = () => started() || undo();
    doc.readyState != 'complete' && addEventListener('load', () => setTimeout(check));
    addEventListener('pagehide', check);
  };

  // Adoption before the SDK starts: its first event then carries the sender's ids.
  const store = ([, , kind, id]) => {
    const state = readState() || log('opted-out');
    if (state && anonymous(state)) {
      const json = JSON.stringify(Object.assign(state, ids(kind, id)));
      if (mp.l) {
        const before = localStorage[mp.n];
        localStorage[mp.n] = json;
        undoUnlessStarted(() => (before == null ? localStorage.removeItem(mp.n) : (localStorage[mp.n] = before)));
      } else {
        // The SDK reads the first matching cookie only. It writes under cookie_domain, or
        // "." + utils.js extract_domain(host) (the same in 2.45 and 2.83), or host-only:
        // remove the copies it can have made, from the host down to extract_domain (never
        // a public suffix, which browsers refuse and Firefox reports), then write one.
        const labels = host.split('.');
        const sdk = host.match(
          /^(com|org|.{5,})$/.test(labels[labels.length - 1]) ? /[a-z\d][a-z\d-]*\.[a-z]+$/ : /[a-z\d][a-z\d-]+\.[a-z.]{2,6}$/,
        );
        const allowed = (domain) => /\./.test(domain) && !(config.s || []).includes(domain.replace(/^\./, ''));
        const floor = (sdk || [host])[0].length;
        const before = readCookie(mp.n);
        const setCookie = (value, domain) =>
          (doc.cookie = mp.n + '=' + value + ';path=/' + (domain ? ';domain=' + domain : '') + mp.a);
        if (before != null)
          for (const i in labels) {
            const domain = labels.slice(i).join('.');
            i == 0 && setCookie(';max-age=0');
            domain.length >= floor && allowed(domain) && setCookie(';max-age=0', domain);
          }
        const wanted = mp.c || (!mp.h && sdk ? '.' + sdk : '');
        const domain = allowed(wanted) && wanted;
        const write = (value) => setCookie(value == null ? ';max-age=0' : encodeURIComponent(value) + mp.e, domain);
        write(json);
        undoUnlessStarted(() => write(before));
      }
      log(id, 'adopted');
    }
  };

  // Adoption by a started SDK: registered ids go into its next event and, once it may, into
  // its storage.
  const register = (instance) => {
    const [, , kind, id, time] = VALUE.exec(held);
    if (fresh(time) && anonymous(instance.persistence.props)) {
      instance.register(ids(kind, id));
      log(id, 'adopted');
    }
  };

  // Adoption at consent: opt_in_tracking() sends $opt_in at once, then stores what it holds
  // in memory, so the ids registered just before it go into both. opt_out_tracking() drops
  // the value.
  const atConsent = (instance) => {
    for (const name of 'opt_in_tracking clear_opt_in_out_tracking opt_out_tracking'.split(' ')) {
      const original = instance[name];
      instance[name] = function () {
        try {
          held && (name[4] == 'o' ? log('opted-out') : register(instance));
          held = 0;
        } catch {}
        return original.apply(this, arguments);
      };
    }
  };

  // The page's first mixpanel.init(token, config, name), before the SDK reads its storage:
  // the state to adopt into is that init's. True when Mixpanel does not track from its start
  // (it waits for consent, or the visitor declined): adoption then waits for opt-in.
  const initialised = (token, options, name) => {
    if (token && !mp) {
      learn(token, options || {});
      // Under Do Not Track the SDK never tracks, not even after opt_in_tracking().
      if (mp.x && held) held = log('opted-out');
      if (held) {
        const now = decision();
        if (now == 1 || (now == null && !mp.b)) {
          const parts = VALUE.exec(held);
          fresh(parts[4]) && store(parts);
          held = 0;
        }
        return held;
      }
    }
  };

  // The instance an init made (the stub queues "mixpanel" as the default one's name) gets a
  // function, run by the SDK once it has started, before any call queued after the init.
  const waitIn = (target, name) =>
    (target[name] || target).push(function () {
      try {
        atConsent(this);
      } catch {}
    });

  // Catches the init calls of the snippet's stub (queued ones too: a snippet that ran before
  // this script, placed after it for a framework), or of a bundled SDK not started yet.
  // The SDK's loader replaces init on the same object: the setter keeps the wrapper on.
  const define = Object.defineProperty;
  const watch = (target) => {
    let init = target.init;
    for (const call of target._i || []) initialised(...call) && waitIn(target, call[2]);
    define(target, 'init', {
      configurable: 1,
      set: (value) => (init = value),
      get: () =>
        function (...call) {
          let waits;
          try {
            waits = initialised(...call);
          } catch {}
          // A bundled SDK starts inside init and sends its page view there.
          const result = init.apply(this, call);
          try {
            waits && waitIn(target, call[2]);
          } catch {}
          return result;
        },
    });
  };

  // xdlink.join(instance): the snippet's stub, a bundled SDK before its init (the page view
  // init sends then carries the ids), or an instance already started (adopted at once if it
  // tracks, at opt-in if it waits for consent). Twice is once.
  const seen = [];
  const adopt = (target) => {
    try {
      if (target && !seen.includes(target)) {
        seen.push((joined = target));
        if (!target.__loaded) watch(target);
        else if (held) target.has_opted_out_tracking() ? atConsent(target) : (register(target), (held = 0));
      }
    } catch {}
  };

  // Landing. This runs before the Mixpanel snippet, so the SDK cannot have read its storage yet.
  try {
    // document.URL keeps the credentials of https://user:pw@host/ that location drops:
    // replaceState refuses a URL whose credentials differ from the document's.
    const next = rewrite(doc.URL);
    if (found != null) {
      // At first load an entry has no state of its own yet.
      history.replaceState(null, '', next);
      const [, text, , id, time] = VALUE.exec(found) || log(found === false ? 'doubled' : 'malformed');
      // Only the listed domains make values; a page elsewhere can compute a valid binding
      // for this browser (user agent, language and time zone are public), so where the
      // visitor comes from decides. A redirect keeps the referrer of its first request.
      const from = doc.referrer && new URL(doc.referrer).hostname;
      if ((from == host || domains.test(from) || log('referrer')) && fresh(time) && (found == sign(text) || log('other-browser'))) {
        held = found;
        log(id, 'held');
      }
    }
  } catch {}

  // The page's Mixpanel: the snippet's stub if it ran already, else whatever the page (or a
  // consent banner, later) puts at window.mixpanel.
  const global = window.mixpanel;
  if (global) adopt(global);
  else
    define(window, 'mixpanel', {
      configurable: 1,
      set(value) {
        // From now on a plain property again, holding the stub.
        delete window.mixpanel;
        window.mixpanel = value;
        adopt(value);
      },
    });

  // formdata: GET forms (Chrome 77, Firefox 72, Safari 15); submit: the action of the others.
  // Enter on a link fires click, so no keyboard listener is needed; touch fires pointerdown.
  for (const type of 'pointerdown click auxclick contextmenu submit formdata'.split(' '))
    doc.addEventListener(type, onEvent, true);
  window.xdlink = { decorate, join: adopt };
})(XDLINK_CONFIG);
