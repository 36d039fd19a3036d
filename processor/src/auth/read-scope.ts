// Who is reading: the one function every read route (POST /sql, the named-query endpoint, the built-in
// dashboards, and any export route) asks before it runs a query. `admin` reads everything (loopback without
// RAGSCOPE_SQL_TOKEN, or that token); `tenant` is a key with scope `read` (auth/api-keys.ts) and reads only its
// tenant's rows, through server-defined SQL whose tenant the server fixes (docs/tenancy.md).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { isLoopback } from '../query/loopback.js';
import { hashKey, presentedKey, type ApiKeys } from './api-keys.js';

export type ReadScope = { kind: 'admin' } | { kind: 'tenant'; tenant: string };

export class ReadAccessError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

/** Cookie of an admin dashboard session (an HMAC of RAGSCOPE_SQL_TOKEN). */
export const ADMIN_SESSION_COOKIE = 'ragscope_ui';
/** Cookie of a tenant dashboard session: `<sha256 of the read key>.<HMAC of it under the process's secret>`. */
export const TENANT_SESSION_COOKIE = 'ragscope_tenant';

export interface ReadAccessOptions {
  /** RAGSCOPE_SQL_TOKEN: the admin credential for non-loopback clients. */
  token: string | undefined;
  apiKeys: ApiKeys;
  /**
   * Signs tenant session cookies. Random per process unless given: sessions end when the processor restarts,
   * and a session names its key's hash, so revoking the key ends the session at once.
   */
  sessionSecret?: Buffer;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export function adminSessionValue(token: string): string {
  return createHmac('sha256', token).update('ragscope built-in dashboards').digest('hex');
}

export class ReadAccess {
  private readonly secret: Buffer;

  constructor(private readonly options: ReadAccessOptions) {
    this.secret = options.sessionSecret ?? randomBytes(32);
  }

  get token(): string | undefined {
    return this.options.token;
  }

  /** The cookie value of a dashboard session for a read key (undefined: not a read key). */
  tenantSessionValue(key: string): { tenant: string; value: string } | undefined {
    const tenant = this.options.apiKeys.readTenantFor(key);
    if (tenant === undefined) return undefined;
    const hash = hashKey(key);
    return { tenant, value: `${hash}.${this.sign(hash)}` };
  }

  private sign(hash: string): string {
    return createHmac('sha256', this.secret).update(hash).digest('hex');
  }

  /**
   * The scope of a read request; throws ReadAccessError (401: no or a wrong credential; 403: a loopback-only
   * door asked from elsewhere). Explicit credentials win over the loopback rule: a tenant key sent from the
   * processor's own host is still that tenant.
   */
  resolve(req: Request): ReadScope {
    const { token, apiKeys } = this.options;
    const authorization = req.get('authorization');
    const xApiKey = req.get('x-api-key');
    if (authorization !== undefined || xApiKey !== undefined) {
      if (token && authorization !== undefined && sameText(authorization, `Bearer ${token}`)) return { kind: 'admin' };
      const key = presentedKey(authorization, xApiKey);
      const tenant = key === undefined ? undefined : apiKeys.readTenantFor(key);
      if (tenant !== undefined) return { kind: 'tenant', tenant };
      throw new ReadAccessError(401, 'unknown read credential: send RAGSCOPE_SQL_TOKEN or an API key with scope "read" (a revoked key stops working at once)');
    }
    const tenantSession = cookie(req, TENANT_SESSION_COOKIE);
    if (tenantSession !== undefined) {
      const [hash = '', mac = ''] = tenantSession.split('.');
      const tenant = sameText(mac, this.sign(hash)) ? apiKeys.readTenantForHash(hash) : undefined;
      if (tenant !== undefined) return { kind: 'tenant', tenant };
      throw new ReadAccessError(401, 'dashboard session ended (key revoked or processor restarted): open /login?key=<read key> again');
    }
    const adminSession = cookie(req, ADMIN_SESSION_COOKIE);
    if (token && adminSession !== undefined && sameText(adminSession, adminSessionValue(token))) return { kind: 'admin' };
    if (!token && isLoopback(req.socket.remoteAddress)) return { kind: 'admin' };
    if (token) throw new ReadAccessError(401, 'missing credential: Authorization: Bearer <RAGSCOPE_SQL_TOKEN or a read key> (dashboards: /login?token=… or /login?key=…)');
    throw new ReadAccessError(403, 'only loopback clients read without a credential unless RAGSCOPE_SQL_TOKEN is set; tenants send an API key with scope "read"');
  }
}

/** The one call for a route: the scope, or the refusal already answered (then undefined). */
export function resolveReadScope(access: ReadAccess, req: Request, res: import('express').Response): ReadScope | undefined {
  try {
    return access.resolve(req);
  } catch (err) {
    if (!(err instanceof ReadAccessError)) throw err;
    res.status(err.status).json({ error: err.message });
    return undefined;
  }
}
