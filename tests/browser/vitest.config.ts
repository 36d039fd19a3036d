import { defineConfig } from 'vitest/config';

// Browser tests (`npm run test:browser`): headless Chromium from the Debian package, kept out of `npm test`.
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.browser.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
