// xdlink's PostHog module (posthog-js), composed into the script by js/build.mjs inside
// js/src/core.js, whose names it uses.
//
// At the click it carries the visitor's anonymous id ($device_id: the id PostHog linked to
// the person when they identified, never the person's own id, often an email) and the
// session id while that session goes on, read from the loaded SDK, or from its storage
// ph_<key>_posthog while the snippet's stubs still return undefined.
// On landing the held value is handed to PostHog at the page's own posthog.init, through
// the snippet's stub (also a snippet a consent banner inserts later): as the init's
// bootstrap, which the SDK applies before its first event and stores as the page's init
// says (persistence, cross_subdomain_cookie, cookie lifetime), so xdlink stores nothing.
// A page that bootstraps its own id, a visitor identified on this domain or opted out, and
// cookieless_mode "always" (no id at all) are left alone. With opt_out_capturing_by_default
// or cookieless_mode "on_reject" and no decision yet the value stays held and goes on to the next page of this site, and
// is adopted when the site calls opt_in_capturing(): $opt_in carries the sender's ids.
// opt_out_capturing() drops it.

// Where the page's PostHog keeps its state, read from its first posthog.init(key, config)
// as that runs (posthog-persistence.js, consent.js):
//   i the instance's name when the init named one (posthog.<name>), n storage name,
//   o consent key, c the state lives in a cookie only, b PostHog waits for consent
//   (opt_out_capturing_by_default, or cookieless_mode "on_reject", which counts an
//   undecided visitor as opted out), x cookieless_mode "always": no id to carry
let ph;
const phLearn = (key, options, name) =>
  (ph = {
    i: name,
    n: 'ph_' + (options.persistence_name || key + '_posthog'),
    o: options.consent_persistence_name || (options.opt_out_capturing_cookie_prefix || '__ph_opt_in_out_') + key,
    c: /^cookie/i.test(options.persistence),
    b: options.opt_out_capturing_by_default || options.cookieless_mode == 'on_reject',
    x: options.cookieless_mode == 'always',
  });

// The visitor's decision as the SDK keeps it (consent.js): 1 opted in, 0 opted out, in
// localStorage or in a cookie depending on opt_out_capturing_persistence_type.
const phDecision = () => readCookie(ph.o) || localStorage[ph.o];
const phWaits = (now = phDecision()) => now == 0 || (now == null && ph.b);

// The SDK's stored state: with the default localStorage+cookie, localStorage wins at load.
const phState = () => JSON.parse((!ph.c && localStorage[ph.n]) || readCookie(ph.n) || '{}');

// The held value while PostHog has not taken it; the instance given to xdlink.join() last.
let phHeld, phJoined;

// "<anonymous id>.<session id>" of this visitor, or nothing.
const phCarry = () => {
  const global = window.posthog;
  const instance = phJoined || (global && ph && ph.i ? global[ph.i] : global);
  let state, session;
  if (instance && instance.__loaded) {
    if (!instance.has_opted_out_capturing()) {
      state = instance.persistence.props;
      session = instance.get_session_id();
    }
  } else if (ph && !ph.x && !phWaits()) {
    state = phState();
    // [last activity, session id, start]: a session ends after 30 minutes idle or 24 hours.
    const [last, id, start] = state.$sesid || [];
    const now = Date.now();
    session = now - last < 18e5 && now - start < 864e5 && id;
  }
  // No id in cookieless mode; an id of the site's own making may not fit a URL.
  const id = state && state.$device_id;
  if (id && /^[\w-]{8,80}$/.test(id)) return id + '.' + (/^[\da-f-]{36}$/.test(session) ? session : '');
};

const phBootstrap = (options, id, session) => ({
  bootstrap: Object.assign({}, options.bootstrap, { distinctID: id }, session && { sessionID: session }),
});

// The page's first posthog.init(key, config[, name]): the config the SDK starts with, the
// sender's ids in its bootstrap when PostHog may take them now. A later init, of another
// instance or project, is the page's own.
const phInit = (key, options = {}, name) => {
  if (key && !ph) {
    phLearn(key, options, name);
    if (phHeld) {
      const { p: id, s: session, at } = read(phHeld);
      const bootstrap = options.bootstrap || {};
      const now = phDecision();
      if (ph.x || now == 0 || bootstrap.distinctID || phState().$user_state == 'identified') {
        log(ph.x ? 'cookieless' : now == 0 ? 'opted-out' : 'identified');
      } else if (phWaits(now)) {
        // Adopted at opt-in, by the started SDK, which loaded() hands over first. In
        // cookieless_mode "on_reject" opt-in resets the SDK to its init's bootstrap first:
        // there the bootstrap holds the ids, which nothing stores before consent.
        return Object.assign({}, options, options.cookieless_mode == 'on_reject' && phBootstrap(options, id, session), {
          loaded(instance) {
            try {
              phAtConsent(instance);
            } catch {}
            options.loaded && options.loaded.apply(this, arguments);
          },
        });
      } else if (fresh(at)) {
        log(id, 'adopted');
        phHeld = 0;
        return Object.assign({}, options, phBootstrap(options, id, session));
      }
      phHeld = 0;
    }
  }
  return options;
};

// Adoption by a started SDK: registered ids go into its next event and its storage; the
// session is the one its storage names ([last activity, id, start], the start read from
// the UUIDv7 id).
const phRegister = (instance) => {
  const { p: id, s: session, at } = read(phHeld);
  if (fresh(at) && (instance.get_property('$user_state') != 'identified' || log('identified'))) {
    instance.register({ distinct_id: id, $device_id: id });
    session && instance.persistence.register({ $sesid: [Date.now(), session, parseInt(session.replace('-', '').slice(0, 12), 16)] });
    log(id, 'adopted');
  }
};

// opt_in_capturing() sends $opt_in at once: the ids registered just before it go into it
// and into the SDK's storage. opt_out_capturing() drops the value.
const phAtConsent = (instance) => {
  for (const name of 'opt_in_capturing opt_out_capturing'.split(' ')) {
    const original = instance[name];
    instance[name] = function () {
      try {
        phHeld && (name[4] == 'o' ? log('opted-out') : phRegister(instance));
        phHeld = 0;
      } catch {}
      return original.apply(this, arguments);
    };
  }
};

// Catches the init calls of the snippet's stub: the first one is the stub's own init, which
// replaces itself by a queueing one through the setter, which keeps the wrapper on.
// A snippet that ran before this script (placed after it for a framework) has queued its
// init: its config is replaced in the queue.
const phWatch = (target) => {
  let init = target.init;
  for (const call of target._i || []) call[1] = phInit(...call);
  define(target, 'init', {
    configurable: 1,
    set: (value) => (init = value),
    get: () =>
      function (key, options, name) {
        try {
          options = phInit(key, options, name);
        } catch {}
        return init.call(this, key, options, name);
      },
  });
};

// xdlink.join(posthog) for posthog-js bundled from npm: before its init, the init is
// caught as the stub's is; after it, the ids are adopted at once if PostHog captures, at
// opt-in if it waits for consent. Twice is once.
const phJoin = (target) => {
  try {
    if (target && target.capture && target != phJoined) {
      phJoined = target;
      if (!target.__loaded) phWatch(target);
      else if (phHeld) target.has_opted_out_capturing() ? phAtConsent(target) : (phRegister(target), (phHeld = 0));
    }
  } catch {}
};
const phLand = () => {
  phHeld = held && read(held).p && held;
  const global = window.posthog;
  if (global) global.__loaded || phWatch(global);
  else
    define(window, 'posthog', {
      configurable: 1,
      set(value) {
        // From now on a plain property again, holding the stub.
        delete window.posthog;
        window.posthog = value;
        value.__loaded || phWatch(value);
      },
    });
};
