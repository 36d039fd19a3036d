#!/usr/bin/env node
// npm run keys -- add --tenant <tenant> [--name <label>] [--file <keys.json>]
// npm run keys -- revoke --tenant <tenant> [--name <label>] [--file <keys.json>]
// npm run keys -- list [--file <keys.json>]
// Keys files hold only SHA-256 hashes: `add` prints the new key once; it cannot be shown again.
// A running processor picks changes up by itself (the file is watched; SIGHUP reloads too).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { hashKey, parseKeysFile, TENANT_PATTERN, type ApiKeyEntry } from '../auth/api-keys.js';

function usage(message?: string): never {
  if (message) console.error(`ragscope keys: ${message}`);
  console.error('usage: npm run keys -- add|revoke --tenant <tenant> [--name <label>] [--file <keys.json>] | list [--file <keys.json>]');
  console.error('       the file defaults to $RAGSCOPE_API_KEYS_FILE');
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { tenant: { type: 'string' }, name: { type: 'string' }, file: { type: 'string' } },
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
  const key = `rgs_${randomBytes(24).toString('base64url')}`;
  save([...entries, { tenant, key_sha256: hashKey(key), ...(values.name ? { name: values.name } : {}) }]);
  console.log(key);
  console.error(`added a key for tenant "${tenant}" to ${file}; it is shown only now`);
} else if (command === 'revoke') {
  const tenant = values.tenant ?? usage('--tenant is required');
  const kept = entries.filter((e) => e.tenant !== tenant || (values.name !== undefined && e.name !== values.name));
  save(kept);
  console.error(`revoked ${entries.length - kept.length} key(s) of tenant "${tenant}" in ${file}`);
} else if (command === 'list') {
  for (const e of entries) console.log(`${e.tenant}\t${e.name ?? ''}\t${e.key_sha256.slice(0, 12)}…`);
} else {
  usage(command ? `unknown command "${command}"` : undefined);
}
