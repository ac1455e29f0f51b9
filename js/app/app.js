// A web app as Vite, Next.js or Astro build them: mixpanel-browser imported from npm into
// a bundle, no window.mixpanel. The page says how it starts Mixpanel in window.APP:
//   token, config, name   the arguments of mixpanel.init
//   join                  where the app calls xdlink.join: "before" or "after" init, or
//                         several of them ("before after")
//   pageview              track a page view after init (SDKs without track_pageview: true)
// The instance is left at window.app for the tests (opt_in_tracking on "accept").
import mixpanel from 'mixpanel-browser';

const { token, config, name, join = '', pageview } = window.APP;
const joins = join.split(' ');
for (const when of joins) if (when == 'before') window.xdlink && window.xdlink.join(mixpanel);
const started = mixpanel.init(token, config, name);
const instance = name ? started : mixpanel;
for (const when of joins) if (when == 'after') window.xdlink && window.xdlink.join(instance);
if (pageview) instance.track_pageview();
window.app = instance;
