// xdlink's Mixpanel module (mixpanel-browser), composed into the script by js/build.mjs
// inside js/src/core.js, whose names it uses.
//
// On landing the held value is handed to Mixpanel at the page's mixpanel.init, through the
// snippet's stub (also a snippet a consent banner inserts later) or through
// xdlink.join(instance) for a bundled SDK. If Mixpanel tracks from its start (consent
// given, or never asked), the SDK's state is written then, just before the SDK reads it, so
// that its first event carries the sender's ids. Otherwise the value stays held, is carried
// to the next page of the same site on its links, and is adopted when the site calls
// opt_in_tracking(): the SDK sends $opt_in with the sender's ids, then stores them itself.
// opt_out_tracking() drops it.
const DEVICE = '$device:';

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

// The held value while Mixpanel has not taken it; the SDK instance given to xdlink.join()
// last.
let mpHeld, joined;

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
const store = ({ k: kind, m: id }) => {
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
  const fields = read(mpHeld);
  if (fresh(fields.at) && anonymous(instance.persistence.props)) {
    instance.register(ids(fields.k, fields.m));
    log(fields.m, 'adopted');
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
        mpHeld && (name[4] == 'o' ? log('opted-out') : register(instance));
        mpHeld = 0;
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
    if (mp.x && mpHeld) mpHeld = log('opted-out');
    if (mpHeld) {
      const now = decision();
      if (now == 1 || (now == null && !mp.b)) {
        const fields = read(mpHeld);
        fresh(fields.at) && store(fields);
        mpHeld = 0;
      }
      return mpHeld;
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
// tracks, at opt-in if it waits for consent). Twice is once. A PostHog instance (it has
// capture) is the PostHog module's.
const seen = [];
const adopt = (target) => {
  try {
    if (target && !target.capture && !seen.includes(target)) {
      seen.push((joined = target));
      if (!target.__loaded) watch(target);
      else if (mpHeld) target.has_opted_out_tracking() ? atConsent(target) : (register(target), (mpHeld = 0));
    }
  } catch {}
};

const mpCarry = device;
const mpJoin = adopt;
const mpLand = () => {
  // A value from a page without Mixpanel carries no Mixpanel id.
  mpHeld = held && read(held).m && held;
  // The page's Mixpanel: the snippet's stub if it ran already, else whatever the page (or
  // a consent banner, later) puts at window.mixpanel.
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
};
