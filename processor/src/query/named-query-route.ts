// GET /query: the named queries (clickhouse/queries) with their parameters; GET /query/<name>?<param>=<value>:
// one of them as JSON rows, on the read-only path with /sql's limits. The admin picks any parameter; a tenant
// credential gets its own tenant fixed by the server (query/tenant-scope.ts).
import type { Request, Response } from 'express';
import { ClickHouseError } from '@clickhouse/client';
import type { StoreClients } from '../store/clickhouse.js';
import { resolveReadScope, type ReadAccess } from '../auth/read-scope.js';
import { listNamedQueries, NamedQueryError, type ParamValue } from './named-queries.js';
import { queryReadOnly } from './read-only.js';
import { ScopeRefusal, scopedNamedQuery, type TenantFilter } from './tenant-scope.js';

export interface NamedQueryRouteOptions {
  store: StoreClients;
  access: ReadAccess;
  filter: TenantFilter;
  /** clickhouse/queries unless given (tests). */
  dir?: string;
}

export function namedQueryListRoute(options: NamedQueryRouteOptions) {
  return (req: Request, res: Response): void => {
    const scope = resolveReadScope(options.access, req, res);
    if (!scope) return;
    const all = listNamedQueries(options.dir);
    const visible = scope.kind === 'admin' ? all : all.filter((q) => q.parameters.some((p) => p.name === 'tenant'));
    res.json(visible.map((q) => ({ name: q.name, question: q.question, parameters: q.parameters })));
  };
}

export function namedQueryRoute(options: NamedQueryRouteOptions) {
  return async (req: Request, res: Response): Promise<void> => {
    const scope = resolveReadScope(options.access, req, res);
    if (!scope) return;
    const given: Record<string, ParamValue | undefined> = {};
    for (const [k, v] of Object.entries(req.query)) {
      if (typeof v !== 'string') {
        res.status(400).json({ error: `query parameter "${k}" must be given once, as text` });
        return;
      }
      given[k] = v;
    }
    try {
      const scoped = scopedNamedQuery(scope, String(req.params.name), given, options.filter, options.dir);
      const result = await queryReadOnly(options.store, { query: scoped.query.sql, params: scoped.params }, scoped.settings);
      const names = result.meta.map((m) => m.name);
      res.json({
        name: scoped.query.name,
        ...(scope.kind === 'tenant' ? { tenant: scope.tenant } : {}),
        rows: result.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))),
      });
    } catch (err) {
      if (err instanceof ScopeRefusal) res.status(403).json({ error: err.message });
      else if (err instanceof NamedQueryError) res.status(/^no query named/.test(err.message) ? 404 : 400).json({ error: err.message });
      else if (err instanceof ClickHouseError) res.status(400).json({ error: err.message, code: err.code });
      else throw err;
    }
  };
}
