// Key scopes and the read-scope decision, without a store: ingest keys cannot read, read keys cannot ingest,
// scopes in the keys file and in RAGSCOPE_API_KEYS, the admin rule (token or loopback), and the config checks
// tenancy adds (RAGSCOPE_CLICKHOUSE_TENANT_USERS, RAGSCOPE_TENANT). The key CLI writes scopes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { ApiKeys, hashKey, parseKeysEnv, parseKeysFile } from '../../processor/src/auth/api-keys.js';
import { ReadAccess, ReadAccessError } from '../../processor/src/auth/read-scope.js';
import { HttpError } from '../../processor/src/receive/http-error.js';
import { ConfigError, loadConfig } from '../../processor/src/config.js';

const keys = (env: string) => new ApiKeys({ env, defaultTenant: 'default' });
const request = (headers: Record<string, string>, remoteAddress = '10.1.2.3') =>
  ({ get: (name: string) => headers[name.toLowerCase()], socket: { remoteAddress } }) as unknown as Request;

describe('key scopes', () => {
  const apiKeys = keys(`team-a:${hashKey('ingest-a')},team-a:${hashKey('read-a')}:read,team-b:${hashKey('both-b')}:ingest+read`);

  it('ingest keys ingest, read keys read, a key with both does both', () => {
    expect(apiKeys.tenantFor('ingest-a')).toBe('team-a');
    expect(apiKeys.readTenantFor('ingest-a')).toBeUndefined();
    expect(apiKeys.readTenantFor('read-a')).toBe('team-a');
    expect(() => apiKeys.tenantFor('read-a')).toThrow(HttpError);
    expect(() => apiKeys.tenantFor('read-a')).toThrow(/may only read/);
    expect(apiKeys.tenantFor('both-b')).toBe('team-b');
    expect(apiKeys.readTenantFor('both-b')).toBe('team-b');
    expect(apiKeys.readTenantForHash(hashKey('read-a'))).toBe('team-a');
    expect(apiKeys.readTenantForHash('not-a-hash')).toBeUndefined();
  });

  it('names a bad scope in the file and in the env', () => {
    const text = JSON.stringify({ keys: [{ tenant: 't', key_sha256: hashKey('k'), scopes: ['write'] }] });
    expect(() => parseKeysFile(text, 'keys.json')).toThrow(/keys\.json: keys\.0\.scopes\.0: /);
    expect(() => parseKeysFile(JSON.stringify({ keys: [{ tenant: 't', key_sha256: hashKey('k'), scopes: [] }] }), 'keys.json')).toThrow(/must name at least one of ingest, read/);
    expect(() => parseKeysEnv(`t:${hashKey('k')}:admin`)).toThrow(/RAGSCOPE_API_KEYS entry 0: scopes/);
  });
});

describe('ReadAccess.resolve', () => {
  const apiKeys = keys(`team-a:${hashKey('read-a')}:read,team-a:${hashKey('ingest-a')}`);
  const open = new ReadAccess({ token: undefined, apiKeys });
  const locked = new ReadAccess({ token: 'admin-token', apiKeys });

  it('admin: loopback without a token, or the token; tenant: a read key, from anywhere', () => {
    expect(open.resolve(request({}, '127.0.0.1'))).toEqual({ kind: 'admin' });
    expect(locked.resolve(request({ authorization: 'Bearer admin-token' }))).toEqual({ kind: 'admin' });
    expect(open.resolve(request({ authorization: 'Bearer read-a' }, '127.0.0.1'))).toEqual({ kind: 'tenant', tenant: 'team-a' });
    expect(locked.resolve(request({ 'x-api-key': 'read-a' }))).toEqual({ kind: 'tenant', tenant: 'team-a' });
  });

  it('refuses with the status and the reason', () => {
    const refusal = (access: ReadAccess, req: Request) => {
      try {
        access.resolve(req);
      } catch (err) {
        return err instanceof ReadAccessError ? [err.status, err.message] : err;
      }
      return 'allowed';
    };
    expect(refusal(open, request({}))).toEqual([403, expect.stringMatching(/only loopback clients read without a credential/)]);
    expect(refusal(locked, request({}, '127.0.0.1'))).toEqual([401, expect.stringMatching(/missing credential/)]);
    expect(refusal(locked, request({ authorization: 'Bearer ingest-a' }))).toEqual([401, expect.stringMatching(/unknown read credential/)]);
    expect(refusal(open, request({ authorization: 'Bearer admin-token' }, '127.0.0.1'))).toEqual([401, expect.stringMatching(/unknown read credential/)]);
    expect(refusal(locked, request({ cookie: `ragscope_tenant=${hashKey('read-a')}.${'f'.repeat(64)}` }))).toEqual([401, expect.stringMatching(/session ended/)]);
  });

  it('a tenant session cookie names the key hash, signed; it resolves until the key is gone', () => {
    const session = locked.tenantSessionValue('read-a')!;
    expect(session.tenant).toBe('team-a');
    expect(session.value.startsWith(`${hashKey('read-a')}.`)).toBe(true);
    expect(locked.resolve(request({ cookie: `ragscope_tenant=${session.value}` }))).toEqual({ kind: 'tenant', tenant: 'team-a' });
    expect(locked.tenantSessionValue('ingest-a')).toBeUndefined();
    // Another processor (another secret) does not accept it.
    const other = new ReadAccess({ token: 'admin-token', apiKeys });
    expect(() => other.resolve(request({ cookie: `ragscope_tenant=${session.value}` }))).toThrow(ReadAccessError);
  });
});

describe('configuration', () => {
  it('RAGSCOPE_CLICKHOUSE_TENANT_USERS=apply needs a server; RAGSCOPE_TENANT follows the tenant rule', () => {
    expect(() => loadConfig({ RAGSCOPE_CLICKHOUSE_TENANT_USERS: 'apply' })).toThrow(/RAGSCOPE_CLICKHOUSE_TENANT_USERS: apply needs a ClickHouse server/);
    expect(loadConfig({ RAGSCOPE_CLICKHOUSE_URL: 'http://ch:8123', RAGSCOPE_CLICKHOUSE_TENANT_USERS: 'apply' }).clickhouseTenantUsers).toBe('apply');
    expect(() => loadConfig({ RAGSCOPE_CLICKHOUSE_TENANT_USERS: 'yes' })).toThrow(/must be off or apply/);
    expect(() => loadConfig({ RAGSCOPE_TENANT: "x' OR 1" })).toThrow(ConfigError);
    expect(loadConfig({}).clickhouseTenantUsers).toBe('off');
  });
});

describe('npm run keys -- add --scope', () => {
  it('writes the scopes; a wrong scope is refused', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ragscope-keys-cli-')), 'keys.json');
    const cli = (...args: string[]) => execFileSync(process.execPath, ['processor/dist/cli/keys.js', ...args, '--file', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const key = cli('add', '--tenant', 'team-a', '--scope', 'read').trim();
    cli('add', '--tenant', 'team-a');
    const entries = parseKeysFile(readFileSync(file, 'utf8'), file);
    expect(entries).toEqual([
      { tenant: 'team-a', key_sha256: hashKey(key), scopes: ['read'] },
      { tenant: 'team-a', key_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(() => cli('add', '--tenant', 'team-a', '--scope', 'admin')).toThrow(/--scope must be ingest, read or ingest,read/);
  });
});
