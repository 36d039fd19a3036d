// The built-in dashboards follow POST /sql's access rule: loopback clients only, unless
// RAGSCOPE_SQL_TOKEN is set; then the bearer token. A browser cannot send a bearer header on page loads,
// so it presents the token once at /login?token=..., which sets an HttpOnly, SameSite=Strict cookie
// holding an HMAC of the token (the token itself is never stored in the browser).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isLoopback } from '../query/loopback.js';

export const SESSION_COOKIE = 'ragscope_ui';

export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('ragscope built-in dashboards').digest('hex');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export function isAuthorized(req: Request, token: string | undefined): boolean {
  if (!token) return isLoopback(req.socket.remoteAddress);
  const bearer = req.get('authorization');
  if (bearer !== undefined && sameText(bearer, `Bearer ${token}`)) return true;
  const session = cookie(req, SESSION_COOKIE);
  return session !== undefined && sameText(session, sessionValue(token));
}

export function requireAccess(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (isAuthorized(req, token)) return next();
    const message = token
      ? 'sign in first: open /login?token=<RAGSCOPE_SQL_TOKEN> once (or send Authorization: Bearer <token>)'
      : 'the dashboards only answer loopback clients unless RAGSCOPE_SQL_TOKEN is set';
    const status = token ? 401 : 403;
    if (req.accepts(['json', 'html']) === 'html' && req.method === 'GET') res.status(status).type('text/plain').send(`ragscope: ${message}\n`);
    else res.status(status).json({ error: message });
  };
}

/** GET /login?token=...: sets the session cookie when the token is right, then opens the dashboards. */
export function loginRoute(token: string | undefined) {
  return (req: Request, res: Response): void => {
    const given = typeof req.query.token === 'string' ? req.query.token : '';
    if (!token) {
      res.redirect(303, '/');
      return;
    }
    if (!sameText(given, token)) {
      res.status(401).type('text/plain').send('ragscope: wrong token (query parameter "token" must equal RAGSCOPE_SQL_TOKEN)\n');
      return;
    }
    const secure = req.secure ? '; Secure' : '';
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${sessionValue(token)}; HttpOnly; SameSite=Strict; Path=/${secure}`);
    const next = typeof req.query.next === 'string' && req.query.next.startsWith('/') && !req.query.next.startsWith('//') ? req.query.next : '/';
    res.redirect(303, next);
  };
}
