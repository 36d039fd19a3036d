// The processor's built-in dashboard endpoints (processor/src/ui/route.ts).

export interface Column {
  name: string;
  type: string;
}

export interface TargetResult {
  refId: string;
  format: number;
  sql: string;
  meta: Column[];
  rows: unknown[][];
  ms: number;
}

export interface Variable {
  name: string;
  label: string;
  type: string;
  multi: boolean;
  includeAll: boolean;
  hidden: boolean;
  options: Array<{ text: string; value: string }>;
  current: string | string[];
  sql?: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly sql?: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const json = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as T & { error?: string; sql?: string };
  if (!res.ok) throw new ApiError(json.error ?? `HTTP ${res.status}`, json.sql);
  return json;
}

export const api = {
  dashboards: () => call<Array<{ uid: string; title: string; tags: string[] }>>('/ui/api/dashboards'),
  dashboard: (uid: string) => call<Dashboard>(`/ui/api/dashboards/${encodeURIComponent(uid)}`),
  variables: (dashboard: string, from: number, to: number, selection: Record<string, string | string[]>) =>
    call<{ variables: Variable[] }>('/ui/api/variables', { dashboard, from, to, selection }),
  panel: (dashboard: string, panelId: number, from: number, to: number, variables: Variable[], maxDataPoints: number) =>
    call<{ targets: TargetResult[] }>('/ui/api/panel', { dashboard, panelId, from, to, variables, maxDataPoints }),
  trace: (traceId: string) => call<TraceResponse>(`/ui/api/trace/${encodeURIComponent(traceId)}`),
};

export interface Result {
  meta: Column[];
  rows: unknown[][];
}

export interface TraceResponse {
  traceId: string;
  spans: Result;
  genai: Result;
  evaluations: Result;
  feedback: Result;
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  options?: Record<string, unknown>;
  fieldConfig?: import('./fields.js').FieldConfig;
  links?: Array<{ title: string; url: string }>;
  targets?: Array<{ refId: string; rawSql: string; format: number }>;
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  description?: string;
  tags?: string[];
  panels: Panel[];
  time?: { from: string; to: string };
  refresh?: string;
  links?: Array<{ title: string; type: string; tags?: string[]; keepTime?: boolean; includeVars?: boolean }>;
  templating?: { list: Array<{ name: string }> };
}
