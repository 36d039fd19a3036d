// API keys → tenants. Keys are kept only as SHA-256 hashes (a keys file never holds a usable secret); a
// presented key is hashed and compared against every entry in constant time, so neither the match nor its
// position leaks through timing. No keys configured = one tenant for everything (RAGSCOPE_TENANT).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { HttpError } from '../receive/http-error.js';

export const TENANT_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * What a key may do: `ingest` (send OTLP and feedback; the default, and all a key could do before scopes) and
 * `read` (the tenant's rows through the named queries and the built-in dashboards, docs/tenancy.md). A key an
 * app ships with should not also read everything the tenant stored, so read access is opt-in per key.
 */
export const KEY_SCOPES = ['ingest', 'read'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

const entrySchema = z.strictObject({
  tenant: z.string().regex(TENANT_PATTERN, 'must be 1-64 characters: letters, digits, . _ -'),
  key_sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256 of the key)'),
  name: z.string().max(200).optional(),
  scopes: z.array(z.enum(KEY_SCOPES)).min(1, 'must name at least one of ingest, read').optional(),
});
const listSchema = z.array(entrySchema);
const objectSchema = z.strictObject({ keys: z.array(entrySchema) });

export type ApiKeyEntry = z.infer<typeof entrySchema>;

interface HashedKey {
  tenant: string;
  hash: Buffer;
  scopes: readonly KeyScope[];
}

/** The scopes of an entry (`ingest` when it names none). */
export function scopesOf(entry: ApiKeyEntry): readonly KeyScope[] {
  return entry.scopes ?? ['ingest'];
}

export class ApiKeyError extends Error {}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Parses a keys file's text (JSON: `[{tenant, key_sha256, name?}]` or `{ "keys": [...] }`); errors name the entry and field. */
export function parseKeysFile(text: string, source: string): ApiKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ApiKeyError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  // One schema per form (not a union), so an error names the entry and field rather than "invalid input".
  const parsed = Array.isArray(json) ? listSchema.safeParse(json) : objectSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiKeyError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.keys;
}

/** RAGSCOPE_API_KEYS: `tenant:sha256hex[:scopes]` entries separated by commas; scopes joined by `+` (`read`, `ingest+read`). */
export function parseKeysEnv(value: string): ApiKeyEntry[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part, i) => {
      const [tenant = '', key_sha256 = '', scopes] = part.split(':');
      const parsed = entrySchema.safeParse({ tenant, key_sha256, ...(scopes !== undefined ? { scopes: scopes.split('+') } : {}) });
      if (!parsed.success) throw new ApiKeyError(`RAGSCOPE_API_KEYS entry ${i}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
      return parsed.data;
    });
}

export interface ApiKeysOptions {
  file?: string;
  env?: string;
  /** The tenant of every request when no keys are configured. */
  defaultTenant: string;
}

export class ApiKeys {
  private keys: HashedKey[] = [];
  private entryList: ApiKeyEntry[] = [];

  constructor(private readonly options: ApiKeysOptions) {
    this.reload();
  }

  /** True when requests must present a key. */
  get required(): boolean {
    return this.keys.length > 0 || this.options.file !== undefined;
  }

  get size(): number {
    return this.keys.length;
  }

  /** Re-reads the file (and env): keys added or revoked take effect for the next request. Throws (keeping the old keys) if invalid. */
  reload(): void {
    const entries = [
      ...(this.options.env ? parseKeysEnv(this.options.env) : []),
      ...(this.options.file ? parseKeysFile(readKeysFile(this.options.file), this.options.file) : []),
    ];
    this.keys = entries.map((e) => ({ tenant: e.tenant, hash: Buffer.from(e.key_sha256, 'hex'), scopes: scopesOf(e) }));
    this.entryList = entries;
  }

  /** The entries in force (hashes only), e.g. to derive server-mode ClickHouse users from them. */
  get entries(): readonly ApiKeyEntry[] {
    return this.entryList;
  }

  /** The entry whose hash is `hash` (constant time over all entries), e.g. a dashboard session's key. */
  private match(hash: Buffer): HashedKey | undefined {
    let found: HashedKey | undefined;
    // Compare with every entry, no early exit: time does not depend on which (or whether one) matched.
    for (const entry of this.keys) {
      if (timingSafeEqual(hash, entry.hash) && found === undefined) found = entry;
    }
    return found;
  }

  /**
   * The tenant a read key names, or undefined when `key` is no key with scope `read` (wrong, revoked, or
   * ingest-only). Reads are scoped only by keys: without keys configured there are no tenant credentials.
   */
  readTenantFor(key: string): string | undefined {
    if (key === '') return undefined;
    const entry = this.match(createHash('sha256').update(key, 'utf8').digest());
    return entry?.scopes.includes('read') ? entry.tenant : undefined;
  }

  /** readTenantFor by the key's sha256 (a dashboard session remembers the hash, never the key). */
  readTenantForHash(hashHex: string): string | undefined {
    if (!/^[0-9a-f]{64}$/.test(hashHex)) return undefined;
    const entry = this.match(Buffer.from(hashHex, 'hex'));
    return entry?.scopes.includes('read') ? entry.tenant : undefined;
  }

  /** The tenant of a presented key; HttpError(401) when keys are required and it is missing or unknown. */
  tenantFor(key: string | undefined): string {
    if (!this.required) return this.options.defaultTenant;
    if (key === undefined || key === '') {
      throw new HttpError(401, 'missing API key: send "Authorization: Bearer <key>" or "x-api-key: <key>"');
    }
    const entry = this.match(createHash('sha256').update(key, 'utf8').digest());
    if (entry === undefined) throw new HttpError(401, 'invalid API key');
    if (!entry.scopes.includes('ingest')) throw new HttpError(401, 'this API key may only read (scopes: read): send telemetry with an ingest key');
    return entry.tenant;
  }
}

function readKeysFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ApiKeyError(`cannot read RAGSCOPE_API_KEYS_FILE ${file}: ${(err as Error).message}`);
  }
}

/** The key in `Authorization: Bearer <key>` or `x-api-key: <key>` (HTTP headers or gRPC metadata). */
export function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string | undefined {
  if (xApiKey !== undefined && xApiKey.trim() !== '') return xApiKey.trim();
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}
