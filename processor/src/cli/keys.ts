#!/usr/bin/env node
// npm run keys -- add --tenant <tenant> [--name <label>] [--scope ingest|read|ingest,read] [--file <keys.json>]
// npm run keys -- revoke --tenant <tenant> [--name <label>] [--file <keys.json>]
// npm run keys -- list [--file <keys.json>]
// npm run keys -- sql [--file <keys.json>] [--unrestricted <user,...>] [--apply]
// Keys files hold only SHA-256 hashes: `add` prints the new key once; it cannot be shown again.
// A running processor picks changes up by itself (the file is watched; SIGHUP reloads too).
// `sql` prints (or with --apply runs, on RAGSCOPE_CLICKHOUSE_URL) the server-mode ClickHouse users, roles and row
// policies of the read keys (auth/server-tenancy.ts). Without RAGSCOPE_CLICKHOUSE_URL the schema is read from a
// scratch embedded store with the migrations applied, and nothing is dropped (printed SQL cannot know the server's users).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashKey, KEY_SCOPES, parseKeysFile, scopesOf, TENANT_PATTERN, type ApiKeyEntry, type KeyScope } from '../auth/api-keys.js';

function usage(message?: string): never {
  if (message) console.error(`ragscope keys: ${message}`);
  console.error('usage: npm run keys -- add --tenant <tenant> [--name <label>] [--scope ingest|read|ingest,read] [--file <keys.json>]');
  console.error('       npm run keys -- revoke --tenant <tenant> [--name <label>] [--file <keys.json>] | list [--file <keys.json>]');
  console.error('       npm run keys -- sql [--file <keys.json>] [--unrestricted <user,...>] [--apply]   (server mode: users and row policies)');
  console.error('       the file defaults to $RAGSCOPE_API_KEYS_FILE');
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    name: { type: 'string' },
    file: { type: 'string' },
    scope: { type: 'string' },
    unrestricted: { type: 'string' },
    apply: { type: 'boolean' },
  },
});
const command = positionals[0];
const file = values.file ?? process.env.RAGSCOPE_API_KEYS_FILE;
if (!file) usage('no keys file: pass --file or set RAGSCOPE_API_KEYS_FILE');
const entries: ApiKeyEntry[] = existsSync(file) ? parseKeysFile(readFileSync(file, 'utf8'), file) : [];

function save(next: ApiKeyEntry[]): void {
  // Write then rename: the watching processor never reads a half-written file.
  writeFileSync(`${file}.tmp`, JSON.stringify({ keys: next }, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file!);
}

if (command === 'add') {
  const tenant = values.tenant ?? usage('--tenant is required');
  if (!TENANT_PATTERN.test(tenant)) usage('--tenant must be 1-64 characters: letters, digits, . _ -');
  const scopes = (values.scope ?? 'ingest').split(',').map((x) => x.trim());
  for (const scope of scopes) if (!(KEY_SCOPES as readonly string[]).includes(scope)) usage(`--scope must be ingest, read or ingest,read (got "${scope}")`);
  const key = `rgs_${randomBytes(24).toString('base64url')}`;
  const entry: ApiKeyEntry = { tenant, key_sha256: hashKey(key), ...(values.name ? { name: values.name } : {}) };
  if (values.scope !== undefined) entry.scopes = scopes as KeyScope[];
  save([...entries, entry]);
  console.log(key);
  console.error(`added a key (${scopesOf(entry).join(', ')}) for tenant "${tenant}" to ${file}; it is shown only now`);
} else if (command === 'revoke') {
  const tenant = values.tenant ?? usage('--tenant is required');
  const kept = entries.filter((e) => e.tenant !== tenant || (values.name !== undefined && e.name !== values.name));
  save(kept);
  console.error(`revoked ${entries.length - kept.length} key(s) of tenant "${tenant}" in ${file}`);
} else if (command === 'list') {
  for (const e of entries) console.log(`${e.tenant}\t${e.name ?? ''}\t${scopesOf(e).join(',')}\t${e.key_sha256.slice(0, 12)}…`);
} else if (command === 'sql') {
  await printOrApplyTenancy(entries);
} else {
  usage(command ? `unknown command "${command}"` : undefined);
}

async function printOrApplyTenancy(keys: ApiKeyEntry[]): Promise<void> {
  const { loadConfig } = await import('../config.js');
  const { openStore } = await import('../store/clickhouse.js');
  const { migrate } = await import('../store/migrations.js');
  const { applyTenancy, tenancySchemaOf, tenancyStatements } = await import('../auth/server-tenancy.js');
  const scratch = process.env.RAGSCOPE_CLICKHOUSE_URL ? undefined : mkdtempSync(join(tmpdir(), 'ragscope-keys-schema-'));
  const config = loadConfig({ ...process.env, ...(scratch ? { RAGSCOPE_DATA_DIR: scratch } : {}) });
  if (values.apply && scratch) usage('--apply needs RAGSCOPE_CLICKHOUSE_URL (server mode): the embedded engine has no users or row policies');
  const limits = { timeoutSeconds: config.sqlTimeoutSeconds, maxRows: config.sqlMaxRows, maxResultBytes: config.sqlMaxResultBytes, maxMemoryBytes: config.sqlMaxMemoryBytes };
  const store = await openStore(config, limits);
  try {
    if (scratch) await migrate(store.writer, { RAW_TTL_DAYS: config.rawTtlDays, ROLLUP_TTL_DAYS: config.rollupTtlDays, DEFAULT_TENANT: config.tenant }, undefined, { exclusive: store.mode === 'embedded' });
    const schema = await tenancySchemaOf(store.writer, config.database);
    const options = { limits, unrestrictedUsers: (values.unrestricted ?? config.clickhouseUser).split(',').filter((u) => u !== '') };
    if (values.apply) {
      const n = await applyTenancy(store.writer, keys, schema, options);
      console.error(`applied ${n} statements on ${config.clickhouseUrl}`);
    } else {
      console.log(`-- ragscope tenant users from ${file} (npm run keys -- sql): run as a user with ACCESS MANAGEMENT.`);
      console.log('-- Users of revoked keys are not dropped here: DROP USER them, or run with --apply.');
      for (const statement of tenancyStatements(keys, schema, options)) console.log(`${statement};`);
    }
  } finally {
    await store.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
