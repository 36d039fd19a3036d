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

export interface PanelAnswer {
  targets?: TargetResult[];
  error?: string;
  sql?: string;
}

export interface LoadRequest {
  dashboard: string;
  from: number;
  to: number;
  selection: Record<string, string | string[]>;
  /** Each panel's width in pixels (its maxDataPoints unless the panel sets one). */
  widths: Record<number, number>;
}

export interface LoadHandlers {
  variables(variables: Variable[]): void;
  panel(id: number, answer: PanelAnswer): void;
  /** The variables could not be resolved (the panels that need them report it too). */
  error(message: string, sql?: string): void;
  /** Every /sql slot is taken (RAGSCOPE_SQL_MAX_CONCURRENT): the request is sent again after `seconds`. */
  queued(seconds: number, message: string): void;
}

const MAX_QUEUED_ATTEMPTS = 30;

/**
 * POST /ui/api/load: the whole dashboard in one request, its NDJSON lines handed over as they arrive. A 429
 * (every /sql slot taken) is retried after its Retry-After, as a well-behaved /sql client would.
 */
async function load(req: LoadRequest, h: LoadHandlers, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch('/ui/api/load', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(req),
      credentials: 'same-origin',
      signal,
    });
    if (res.status === 429 && attempt < MAX_QUEUED_ATTEMPTS) {
      const seconds = Number(res.headers.get('retry-after') ?? 1) || 1;
      const { error } = (await res.json().catch(() => ({ error: 'busy' }))) as { error: string };
      h.queued(seconds, error);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, seconds * 1000);
        signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
      });
      continue;
    }
    if (!res.ok || !res.body) {
      const json = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as { error?: string; sql?: string };
      throw new ApiError(json.error ?? `HTTP ${res.status}`, json.sql);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let done = false;
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += chunk.value;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { variables?: Variable[]; panel?: number; error?: string; sql?: string; done?: boolean; targets?: TargetResult[] };
        if (msg.done) done = true;
        else if (msg.variables) h.variables(msg.variables);
        else if (msg.panel !== undefined) h.panel(msg.panel, msg);
        else if (msg.error) h.error(msg.error, msg.sql);
      }
    }
    if (!done) throw new ApiError('the answer ended early (the processor stopped or cancelled the queries)');
    return;
  }
}

export const api = {
  load,
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
  timezone?: string;
  refresh?: string;
  links?: Array<{ title: string; type: string; tags?: string[]; keepTime?: boolean; includeVars?: boolean }>;
  templating?: { list: Array<{ name: string }> };
}
