// Bundles app/app.js (or app/posthog-app.js) with esbuild against one mixpanel-browser (or
// posthog-js) release from node_modules, as an app's build would: node bundle.mjs [PACKAGE]
// prints the bundle (an IIFE).
//   PACKAGE  mixpanel-browser (default), posthog-js, or an alias in package.json
//            (mixpanel-browser-2.45, posthog-js-1.292.0)
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const sdk = process.argv[2] || 'mixpanel-browser';
const posthog = sdk.startsWith('posthog-js');
const result = await build({
  entryPoints: [fileURLToPath(new URL(posthog ? 'app/posthog-app.js' : 'app/app.js', import.meta.url))],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: 'es2019',
  minify: true,
  alias: posthog ? { 'posthog-js': sdk } : { 'mixpanel-browser': sdk },
  absWorkingDir: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'error',
});
process.stdout.write(result.outputFiles[0].text);
