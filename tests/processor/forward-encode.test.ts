// forward/otlp-encode.ts: decoded spans and log records encoded back to OTLP protobuf decode to the same
// values, read by our decoder and by protobufjs with the OTLP .proto files (the independent reference).
import { describe, expect, it } from 'vitest';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { SeverityNumber } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { buildGenAiTracePayload } from '../../bench/decode-payloads.js';
import { decodeLogs, decodeTraces } from '../../processor/src/receive/protobuf-decoder.js';
import { encodeLogsRequest, encodeTracesRequest } from '../../processor/src/forward/otlp-encode.js';
import { encodeSpanExtras, extraAt, spliceSpanExtras } from '../../processor/src/forward/otlp-splice.js';
import type { Attributes } from '../../processor/src/model.js';
import { decodeLogsProtobufjs, decodeTracesProtobufjs } from '../helpers/otlp-protobufjs/decoder.js';
import { testNow } from '../helpers/clock.js';

describe('OTLP encoding for forwarding', () => {
  it('spans (attributes of every type, events, parents, status) survive decode → encode → decode; extra attributes are appended', () => {
    const original = decodeTraces(buildGenAiTracePayload({ spanCount: 64, startMs: testNow() - 60_000 }).protobuf);
    expect(original.length).toBe(64);
    expect(original.some((s) => s.events.length > 0)).toBe(true);
    const encoded = encodeTracesRequest(original.map((span) => ({ span, extra: {} })));
    expect(decodeTraces(encoded)).toEqual(original);
    expect(decodeTracesProtobufjs(encoded)).toEqual(original);

    const withExtra = decodeTraces(encodeTracesRequest([{ span: original[1], extra: { 'ragscope.derived.cost_usd': 0.0125, 'ragscope.derived.usage_counted': false } }]));
    expect(withExtra[0].attributes).toEqual({ ...original[1].attributes, 'ragscope.derived.cost_usd': 0.0125, 'ragscope.derived.usage_counted': false });
  });

  it('log records survive decode → encode → decode', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'enc' }), processors: [new SimpleLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('enc-test', '1.0');
    logger.emit({ body: 'plain', severityNumber: SeverityNumber.INFO, severityText: 'INFO', timestamp: testNow(), attributes: { n: 3, d: 1.5, b: true, arr: ['x', 'y'] } });
    logger.emit({ body: { nested: { k: 'v' }, list: [1, 2] }, eventName: 'gen_ai.evaluation.result', timestamp: testNow() + 1 });
    await provider.forceFlush();
    const original = decodeLogs(ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!);
    expect(original.length).toBe(2);
    const encoded = encodeLogsRequest(original);
    expect(decodeLogs(encoded)).toEqual(original);
    expect(decodeLogsProtobufjs(encoded)).toEqual(original);
  });

  it('splicing extra attributes into the received bytes gives what decode → encode with extras gives, the rest byte for byte', () => {
    const payload = buildGenAiTracePayload({ spanCount: 200, startMs: testNow() - 60_000 }).protobuf;
    const original = decodeTraces(payload);
    expect(original.length).toBe(200);
    // Every third span gets extras (one of them empty), the others none.
    const extras = original.map((_, i): Attributes | undefined =>
      i % 3 !== 0 ? undefined : i === 3 ? {} : { 'ragscope.derived.cost_usd': i / 1000, 'ragscope.derived.model': `m-${i}`, 'ragscope.derived.usage_counted': i % 2 === 0 },
    );
    const encoded = encodeSpanExtras(extras)!;
    expect(encoded.ends.length).toBe(200);
    expect(original.filter((_, i) => extraAt(encoded, i) !== undefined).length).toBe(66);
    const spliced = spliceSpanExtras(payload, encoded);
    expect(spliced.spans).toBe(200);
    const bytes = Buffer.concat(spliced.chunks);
    expect(bytes.length).toBe(spliced.bytes);
    expect(bytes.length).toBeGreaterThan(payload.length);
    const expected = original.map((span, i) => ({ ...span, attributes: { ...span.attributes, ...extras[i] } }));
    expect(decodeTracesProtobufjs(bytes)).toEqual(expected);
    expect(decodeTraces(bytes)).toEqual(decodeTraces(encodeTracesRequest(original.map((span, i) => ({ span, extra: extras[i] ?? {} })))));
    // No extras at all: the request comes back unchanged.
    expect(encodeSpanExtras(original.map(() => undefined))).toBeNull();
    expect(Buffer.concat(spliceSpanExtras(payload, null).chunks).equals(Buffer.from(payload))).toBe(true);
  });

  it('spliced requests concatenate into one export request (two requests forwarded as one batch)', () => {
    const a = buildGenAiTracePayload({ spanCount: 16, startMs: testNow() - 60_000, serviceName: 'svc-a' }).protobuf;
    const b = buildGenAiTracePayload({ spanCount: 8, startMs: testNow() - 30_000, serviceName: 'svc-b' }).protobuf;
    const extras = encodeSpanExtras(Array.from({ length: 16 }, () => ({ 'ragscope.derived.tenant': 't1' })));
    const joined = Buffer.concat([...spliceSpanExtras(a, extras).chunks, ...spliceSpanExtras(b, null).chunks]);
    const spans = decodeTracesProtobufjs(joined);
    expect(spans.length).toBe(24);
    expect(spans.filter((s) => s.origin.resource['service.name'] === 'svc-a').every((s) => s.attributes['ragscope.derived.tenant'] === 't1')).toBe(true);
    expect(spans.filter((s) => s.origin.resource['service.name'] === 'svc-b').map((s) => s.attributes['ragscope.derived.tenant'])).toEqual(Array(8).fill(undefined));
  });
});
