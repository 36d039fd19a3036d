// `node --import @ragscope/instrumentation/register app.js`, or `import '@ragscope/instrumentation/register'`
// as the first import of an ESM app. Configuration comes from the standard OTEL_* variables (and
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, RAGSCOPE_FINGERPRINT_SALT); see docs/instrumentation.md.
// CommonJS `require('@ragscope/instrumentation/register')` / `--require` load register.cjs instead.

import { preloadProviders } from './preload.js';
import { register } from './sdk.js';

const handle = register();
await Promise.all([handle.ready, preloadProviders(handle)]);
