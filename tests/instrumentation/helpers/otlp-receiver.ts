// A tiny OTLP/HTTP receiver (node:http) that records what it gets, with just enough decoding of the
// OTLP/JSON encoding to assert on spans and log records.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  contentType: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

// The parts of OTLP/JSON export requests read below (every field optional, as the encoding omits defaults).
interface JsonResource {
  attributes?: KeyValue[];
}
interface JsonScope {
  name?: string;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  status?: { code?: number };
}
interface JsonLogRecord {
  traceId?: string;
  spanId?: string;
  eventName?: string;
  attributes?: KeyValue[];
}
interface JsonTraces {
  resourceSpans?: { resource?: JsonResource; scopeSpans?: { scope?: JsonScope; spans?: JsonSpan[] }[] }[];
}
interface JsonLogs {
  resourceLogs?: { resource?: JsonResource; scopeLogs?: { scope?: JsonScope; logRecords?: JsonLogRecord[] }[] }[];
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  scope: string;
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
  status: { code?: number };
}

export interface OtlpLog {
  traceId: string;
  spanId: string;
  eventName: string;
  scope: string;
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

function value(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

export function attributes(kvs: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) out[kv.key] = value(kv.value);
  return out;
}

export interface Receiver {
  url: string;
  received: Received[];
  spans(): OtlpSpan[];
  logs(): OtlpLog[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    received.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), headers: req.headers, body: Buffer.concat(chunks) });
    const json = String(req.headers['content-type'] ?? '').includes('json');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
    res.end(json ? '{}' : undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const jsonBodies = <T>(path: string): T[] =>
    received.filter((r) => r.path === path && r.contentType.includes('json')).map((r) => JSON.parse(r.body.toString('utf8')) as T);
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    spans: () =>
      jsonBodies<JsonTraces>('/v1/traces').flatMap((b) =>
        (b.resourceSpans ?? []).flatMap((rs) =>
          (rs.scopeSpans ?? []).flatMap((ss) =>
            (ss.spans ?? []).map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              scope: ss.scope?.name ?? '',
              resource: attributes(rs.resource?.attributes),
              attributes: attributes(s.attributes),
              status: s.status ?? {},
            })),
          ),
        ),
      ),
    logs: () =>
      jsonBodies<JsonLogs>('/v1/logs').flatMap((b) =>
        (b.resourceLogs ?? []).flatMap((rl) =>
          (rl.scopeLogs ?? []).flatMap((sl) =>
            (sl.logRecords ?? []).map((l) => ({
              traceId: l.traceId ?? '',
              spanId: l.spanId ?? '',
              eventName: l.eventName ?? '',
              scope: sl.scope?.name ?? '',
              resource: attributes(rl.resource?.attributes),
              attributes: attributes(l.attributes),
            })),
          ),
        ),
      ),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
