// ApiKeys: hashed keys, every entry compared in constant time (no early exit), clear errors naming the
// entry and field for a bad keys file or env, and no keys = the single default tenant.
import { afterEach, describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ timingSafeEqual: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.timingSafeEqual++;
      return actual.timingSafeEqual(a, b);
    },
  };
});

const { ApiKeys, hashKey, parseKeysEnv, parseKeysFile, presentedKey } = await import('../../processor/src/auth/api-keys.js');

afterEach(() => {
  calls.timingSafeEqual = 0;
});

const env = (pairs: [string, string][]) => pairs.map(([t, k]) => `${t}:${hashKey(k)}`).join(',');

describe('ApiKeys', () => {
  it('without keys every request is the default tenant', () => {
    const keys = new ApiKeys({ defaultTenant: 'solo' });
    expect(keys.required).toBe(false);
    expect(keys.tenantFor(undefined)).toBe('solo');
    expect(keys.tenantFor('anything')).toBe('solo');
  });

  it('resolves the tenant by comparing the hash with every entry, wherever the match is', () => {
    const keys = new ApiKeys({ defaultTenant: 'solo', env: env([['first', 'k1'], ['second', 'k2'], ['third', 'k3']]) });
    for (const [key, tenant] of [['k1', 'first'], ['k2', 'second'], ['k3', 'third']]) {
      calls.timingSafeEqual = 0;
      expect(keys.tenantFor(key)).toBe(tenant);
      expect(calls.timingSafeEqual).toBe(3);
    }
    calls.timingSafeEqual = 0;
    expect(() => keys.tenantFor('k4')).toThrow(/invalid API key/);
    expect(calls.timingSafeEqual).toBe(3);
    expect(() => keys.tenantFor(undefined)).toThrow(/missing API key/);
  });

  it('names the entry and field of a bad keys file or env', () => {
    expect(() => parseKeysFile('{"keys":[{"tenant":"a","key_sha256":"abc"}]}', 'k.json')).toThrow(/k\.json: keys\.0\.key_sha256: must be 64 lowercase hex digits/);
    expect(() => parseKeysFile(`[{"tenant":"a b","key_sha256":"${hashKey('x')}"}]`, 'k.json')).toThrow(/k\.json: 0\.tenant: must be 1-64 characters/);
    expect(() => parseKeysFile('{', 'k.json')).toThrow(/k\.json: not valid JSON/);
    expect(() => parseKeysEnv('a:123')).toThrow(/RAGSCOPE_API_KEYS entry 0: key_sha256/);
  });

  it('reads the key from Authorization: Bearer or x-api-key', () => {
    expect(presentedKey('Bearer abc', undefined)).toBe('abc');
    expect(presentedKey('bearer  abc ', undefined)).toBe('abc');
    expect(presentedKey('Basic abc', undefined)).toBeUndefined();
    expect(presentedKey(undefined, ' xyz ')).toBe('xyz');
  });
});
