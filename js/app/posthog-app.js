// A web app as Vite, Next.js or Astro build them: posthog-js imported from npm into a
// bundle, no window.posthog. The page says how it starts PostHog in window.APP:
//   key, config   the arguments of posthog.init
//   join          where the app calls xdlink.join: "before" or "after" init
// The instance is left at window.app for the tests (opt_in_capturing on "accept").
import posthog from 'posthog-js';

const { key, config, join = '' } = window.APP;
if (join == 'before') window.xdlink && window.xdlink.join(posthog);
posthog.init(key, config);
if (join == 'after') window.xdlink && window.xdlink.join(posthog);
window.app = posthog;
