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
});
