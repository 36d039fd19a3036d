// `node --require @ragscope/instrumentation/register app.js`, or
// `require('@ragscope/instrumentation/register')` as the first line of a CommonJS app.
// CommonJS modules are patched when required (require-in-the-middle), so no preload is needed here.
// Loads the ES module build with require(esm): Node >= 20.19 / 22.12.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { register } = require('./index.js') as typeof import('./index.js');
register();
