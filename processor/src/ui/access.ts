// The built-in dashboards follow the read rule of every read route (auth/read-scope.ts): the admin (loopback
// clients unless RAGSCOPE_SQL_TOKEN is set; then that token) sees every tenant; an API key with scope `read`
// sees its own tenant. A browser cannot send a bearer header on page loads, so it presents the credential once
// at /login?token=... or /login?key=..., which sets an HttpOnly, SameSite=Strict cookie: an HMAC of the token,
// or the read key's hash with an HMAC of it (the key itself is never stored in the browser).
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ADMIN_SESSION_COOKIE, adminSessionValue, ReadAccessError, TENANT_SESSION_COOKIE, type ReadAccess, type ReadScope } from '../auth/read-scope.js';

/** Kept for callers of the earlier admin-only module. */
export const SESSION_COOKIE = ADMIN_SESSION_COOKIE;
export const sessionValue = adminSessionValue;

/** The scope requireAccess resolved for this request. */
export function readScopeOf(res: Response): ReadScope {
  const scope = res.locals.readScope as ReadScope | undefined;
  if (!scope) throw new Error('route without requireAccess');
  return scope;
}

export function requireAccess(access: ReadAccess) {
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      res.locals.readScope = access.resolve(req);
      next();
    } catch (err) {
      if (!(err instanceof ReadAccessError)) throw err;
      if (req.accepts(['json', 'html']) === 'html' && req.method === 'GET') res.status(err.status).type('text/plain').send(`ragscope: ${err.message}\n`);
      else res.status(err.status).json({ error: err.message });
    }
  };
}

/** GET /login?token=... (admin) or /login?key=... (a tenant's read key): sets the session cookie, then opens the dashboards. */
export function loginRoute(access: ReadAccess) {
  return (req: Request, res: Response): void => {
    const secure = req.secure ? '; Secure' : '';
    const next = typeof req.query.next === 'string' && req.query.next.startsWith('/') && !req.query.next.startsWith('//') ? req.query.next : '/';
    const key = typeof req.query.key === 'string' ? req.query.key : undefined;
    if (key !== undefined) {
      const session = access.tenantSessionValue(key);
      if (!session) {
        res.status(401).type('text/plain').send('ragscope: unknown read key (query parameter "key" must be an API key with scope "read")\n');
        return;
      }
      res.setHeader('Set-Cookie', [
        `${TENANT_SESSION_COOKIE}=${session.value}; HttpOnly; SameSite=Strict; Path=/${secure}`,
        `${ADMIN_SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
      ]);
      res.redirect(303, next);
      return;
    }
    const token = access.token;
    const given = typeof req.query.token === 'string' ? req.query.token : '';
    if (!token) {
      res.redirect(303, '/');
      return;
    }
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      res.status(401).type('text/plain').send('ragscope: wrong token (query parameter "token" must equal RAGSCOPE_SQL_TOKEN)\n');
      return;
    }
    res.setHeader('Set-Cookie', [
      `${ADMIN_SESSION_COOKIE}=${adminSessionValue(token)}; HttpOnly; SameSite=Strict; Path=/${secure}`,
      `${TENANT_SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
    ]);
    res.redirect(303, next);
  };
}
