// Bundles app/app.js with esbuild against one mixpanel-browser release from node_modules,
// as an app's build would: node bundle.mjs [PACKAGE] prints the bundle (an IIFE).
//   PACKAGE  mixpanel-browser (default), or an alias in package.json (mixpanel-browser-2.45)
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const sdk = process.argv[2] || 'mixpanel-browser';
const result = await build({
  entryPoints: [fileURLToPath(new URL('app/app.js', import.meta.url))],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: 'es2019',
  minify: true,
  alias: { 'mixpanel-browser': sdk },
  absWorkingDir: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'error',
});
process.stdout.write(result.outputFiles[0].text);
