import { describe, expect, it } from 'vitest';
import type { DecodedSpan } from '../../processor/src/model.js';
import { decodeLogsJson, decodeTracesJson } from '../../processor/src/receive/json-decoder.js';
import { OtlpDecodeError } from '../../processor/src/receive/otlp-decode-error.js';

// OTLP/JSON rules: lowerCamelCase keys (snake_case accepted), hex ids (case-insensitive), enums as
// integers or names, 64-bit integers as strings or numbers, unknown fields ignored.

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

function request(span: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [{ scope: { name: 'scope', version: '1.0' }, spans: [span] }],
        ...extra,
      },
    ],
  });
}

const baseSpan = {
  traceId: TRACE,
  spanId: SPAN,
  name: 'chat',
  kind: 3,
  startTimeUnixNano: '1700000000000000001',
  endTimeUnixNano: '1700000000500000000',
};

function decodeOne(span: Record<string, unknown>): DecodedSpan {
  const spans = decodeTracesJson(request(span));
  expect(spans).toHaveLength(1);
  return spans[0];
}

function decodeError(run: () => unknown): OtlpDecodeError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return err as OtlpDecodeError;
  }
  throw new Error('expected an OtlpDecodeError, but decoding succeeded');
}

/** Renames every object key from lowerCamelCase to snake_case (attribute keys are values, so they stay). */
function toSnakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSnakeCase);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), toSnakeCase(v)]));
  }
  return value;
}

const fullSpan = {
  ...baseSpan,
  parentSpanId: 'EEE19B7EC3C1B173',
  traceState: 'k=v',
  attributes: [
    { key: 'gen_ai.usage.input_tokens', value: { intValue: '42' } },
    { key: 'ratio', value: { doubleValue: 0.25 } },
    { key: 'stream', value: { boolValue: true } },
    { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 7 }, {}] } } },
    { key: 'map', value: { kvlistValue: { values: [{ key: 'inner', value: { bytesValue: 'AKv/' } }] } } },
  ],
  droppedAttributesCount: 0,
  events: [{ timeUnixNano: '1700000000100000000', name: 'evt', attributes: [{ key: 'e', value: { boolValue: false } }] }],
  links: [{ traceId: TRACE.toUpperCase(), spanId: SPAN, traceState: 'a=b', attributes: [], flags: 769 }],
  status: { code: 2, message: 'failed' },
  flags: 257,
};

const expectedFullSpan: DecodedSpan = {
  origin: { resource: { 'service.name': 'svc' }, scope: { name: 'scope', version: '1.0', attributes: {} } },
  traceId: TRACE,
  spanId: SPAN,
  parentSpanId: 'eee19b7ec3c1b173',
  traceState: 'k=v',
  name: 'chat',
  kind: 3,
  startTimeUnixNano: 1_700_000_000_000_000_001n,
  endTimeUnixNano: 1_700_000_000_500_000_000n,
  attributes: { 'gen_ai.usage.input_tokens': 42, ratio: 0.25, stream: true, list: ['a', 7, null], map: { inner: '00abff' } },
  events: [{ timeUnixNano: 1_700_000_000_100_000_000n, name: 'evt', attributes: { e: false } }],
  links: [{ traceId: TRACE, spanId: SPAN, traceState: 'a=b', attributes: {} }],
  statusCode: 2,
  statusMessage: 'failed',
};

describe('OTLP/JSON decoding', () => {
  it('decodes every span field', () => {
    expect(decodeOne(fullSpan)).toStrictEqual(expectedFullSpan);
  });

  it('accepts snake_case (proto) field names everywhere', () => {
    const snake = JSON.stringify(toSnakeCase(JSON.parse(request(fullSpan))));
    expect(snake).toContain('"resource_spans"');
    expect(snake).toContain('"start_time_unix_nano"');
    expect(snake).toContain('"int_value"');
    expect(snake).toContain('"gen_ai.usage.input_tokens"');
    expect(decodeTracesJson(snake)).toStrictEqual([expectedFullSpan]);
  });

  it('lowercases ids and passes ids of the wrong length through (not a decode error)', () => {
    const span = decodeOne({ ...baseSpan, traceId: 'ABCDEF', spanId: 'ZZ', parentSpanId: '' });
    expect(span.traceId).toBe('abcdef');
    expect(span.spanId).toBe('zz');
    expect(span.parentSpanId).toBe('');
    expect(decodeOne({ ...baseSpan, traceId: undefined, spanId: null }).traceId).toBe('');
  });

  it('accepts enum names and numeric strings', () => {
    const span = decodeOne({ ...baseSpan, kind: 'SPAN_KIND_SERVER', status: { code: 'STATUS_CODE_ERROR' } });
    expect(span.kind).toBe(2);
    expect(span.statusCode).toBe(2);
    expect(decodeOne({ ...baseSpan, kind: '5' }).kind).toBe(5);
  });

  it('64-bit integers as decimal strings or numbers; numbers beyond 2^53 become strings', () => {
    const span = decodeOne({
      ...baseSpan,
      startTimeUnixNano: 1_700_000_000_000_000_000,
      endTimeUnixNano: '18446744073709551615',
      attributes: [
        { key: 'neg', value: { intValue: '-5' } },
        { key: 'big.string', value: { intValue: '9007199254740993' } },
        { key: 'big.number', value: { intValue: 2 ** 60 } },
        { key: 'min', value: { intValue: '-9223372036854775808' } },
        { key: 'leading.zeros', value: { intValue: '007' } },
      ],
    });
    expect(span.startTimeUnixNano).toBe(1_700_000_000_000_000_000n);
    expect(span.endTimeUnixNano).toBe(2n ** 64n - 1n);
    expect(span.attributes).toStrictEqual({
      neg: -5,
      'big.string': '9007199254740993',
      'big.number': '1152921504606846976',
      min: '-9223372036854775808',
      'leading.zeros': 7,
    });
  });

  it('doubles as numbers or the proto3 JSON strings (NaN, Infinity)', () => {
    const span = decodeOne({
      ...baseSpan,
      attributes: [
        { key: 'nan', value: { doubleValue: 'NaN' } },
        { key: 'inf', value: { doubleValue: 'Infinity' } },
        { key: 'ninf', value: { doubleValue: '-Infinity' } },
        { key: 'str', value: { doubleValue: '1.5' } },
        { key: 'int', value: { doubleValue: 3 } },
      ],
    });
    expect(span.attributes).toStrictEqual({ nan: NaN, inf: Infinity, ninf: -Infinity, str: 1.5, int: 3 });
  });

  it('bytes values are base64 (standard or URL-safe) and come out as hex', () => {
    const span = decodeOne({
      ...baseSpan,
      attributes: [
        { key: 'std', value: { bytesValue: '+/8=' } },
        { key: 'url', value: { bytesValue: '-_8' } },
        { key: 'empty', value: { bytesValue: '' } },
      ],
    });
    expect(span.attributes).toStrictEqual({ std: 'fbff', url: 'fbff', empty: '' });
  });

  it('ignores unknown fields, treats null as unset, accepts a BOM and a Buffer', () => {
    const text = request(
      { ...baseSpan, futureField: { nested: [1, 2] }, traceState: null, status: null, attributes: [{ key: 'a', value: null, extra: 1 }] },
      { schemaUrl: 'https://x', somethingNew: true },
    );
    const spans = decodeTracesJson(Buffer.from(`\ufeff${text}`, 'utf8'));
    expect(spans[0]).toMatchObject({ traceState: '', statusCode: 0, statusMessage: '', attributes: { a: null } });
  });

  it('a __proto__ attribute key stays an ordinary property', () => {
    const span = decodeOne({ ...baseSpan, attributes: [{ key: '__proto__', value: { stringValue: 'x' } }] });
    expect(Object.getPrototypeOf(span.attributes)).toBe(Object.prototype);
    expect(Object.keys(span.attributes)).toEqual(['__proto__']);
  });

  it('decodes log records, incl. eventName, severity names and a kvlist body', () => {
    const body = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeLogs: [
            {
              scope: { name: 'logger' },
              logRecords: [
                {
                  timeUnixNano: '1700000000000000001',
                  observedTimeUnixNano: 1_700_000_000_000_000_000,
                  severityNumber: 'SEVERITY_NUMBER_WARN2',
                  severityText: 'WARN',
                  body: { kvlistValue: { values: [{ key: 'role', value: { stringValue: 'user' } }] } },
                  attributes: [{ key: 'gen_ai.system', value: { stringValue: 'openai' } }],
                  flags: 1,
                  traceId: TRACE.toUpperCase(),
                  spanId: SPAN,
                  eventName: 'gen_ai.choice',
                },
                { body: { stringValue: 'plain' }, severity_number: 17 },
              ],
            },
          ],
        },
      ],
    });
    const records = decodeLogsJson(body);
    expect(records).toStrictEqual([
      {
        origin: { resource: { 'service.name': 'svc' }, scope: { name: 'logger', version: '', attributes: {} } },
        timeUnixNano: 1_700_000_000_000_000_001n,
        observedTimeUnixNano: 1_700_000_000_000_000_000n,
        severityNumber: 14,
        severityText: 'WARN',
        body: { role: 'user' },
        attributes: { 'gen_ai.system': 'openai' },
        traceId: TRACE,
        spanId: SPAN,
        flags: 1,
        eventName: 'gen_ai.choice',
      },
      {
        origin: records[0].origin,
        timeUnixNano: 0n,
        observedTimeUnixNano: 0n,
        severityNumber: 17,
        severityText: '',
        body: 'plain',
        attributes: {},
        traceId: '',
        spanId: '',
        flags: 0,
        eventName: '',
      },
    ]);
  });
});

describe('malformed OTLP/JSON', () => {
  it('invalid JSON', () => {
    expect(decodeError(() => decodeTracesJson('{"resourceSpans": [')).message).toMatch(/^invalid JSON: /);
    expect(decodeError(() => decodeTracesJson(Buffer.from([0xff, 0xfe, 0x00]))).message).toMatch(/^invalid JSON/);
    expect(decodeError(() => decodeTracesJson('')).message).toMatch(/^invalid JSON/);
  });

  it('names the field path of a wrongly typed value', () => {
    const spans = [baseSpan, baseSpan, { ...baseSpan, startTimeUnixNano: 'soon' }];
    const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
    const err = decodeError(() => decodeTracesJson(body));
    expect(err.path).toBe('resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano');
    expect(err.message).toMatch(/^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[2\]\.startTimeUnixNano: expected integer string/);
  });

  const spanCases: [string, Record<string, unknown>, string][] = [
    ['negative time', { startTimeUnixNano: '-1' }, 'spans[0].startTimeUnixNano: expected integer string, got "-1"'],
    ['fractional time', { endTimeUnixNano: 1.5 }, 'spans[0].endTimeUnixNano: expected integer string, got 1.5'],
    ['time over 2^64', { endTimeUnixNano: '18446744073709551616' }, 'spans[0].endTimeUnixNano: expected integer string'],
    ['numeric name', { name: 5 }, 'spans[0].name: expected string, got 5'],
    ['numeric trace id', { traceId: 5 }, 'spans[0].traceId: expected hex string, got 5'],
    ['attributes as object', { attributes: {} }, 'spans[0].attributes: expected array, got object'],
    ['attribute not an object', { attributes: ['x'] }, 'spans[0].attributes[0]: expected object, got "x"'],
    ['value not an object', { attributes: [{ key: 'k', value: 'v' }] }, 'spans[0].attributes[0].value: expected object, got "v"'],
    ['bad intValue', { attributes: [{ key: 'k', value: { intValue: 'abc' } }] }, 'spans[0].attributes[0].value.intValue: expected 64-bit integer, got "abc"'],
    ['fractional intValue', { attributes: [{ key: 'k', value: { intValue: 1.5 } }] }, 'value.intValue: expected 64-bit integer, got 1.5'],
    ['intValue over int64', { attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] }, 'value.intValue: expected 64-bit integer'],
    ['bool as string', { attributes: [{ key: 'k', value: { boolValue: 'true' } }] }, 'value.boolValue: expected boolean, got "true"'],
    ['bad double', { attributes: [{ key: 'k', value: { doubleValue: 'abc' } }] }, 'value.doubleValue: expected number, got "abc"'],
    ['array values not an array', { attributes: [{ key: 'k', value: { arrayValue: { values: 1 } } }] }, 'value.arrayValue.values: expected array, got 1'],
    ['nested bad value', { attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'a', value: { stringValue: 1 } }] } } }] }, 'value.kvlistValue.values[0].value.stringValue: expected string, got 1'],
    ['unknown kind name', { kind: 'SPAN_KIND_BOGUS' }, 'spans[0].kind: expected enum integer or name, got "SPAN_KIND_BOGUS"'],
    ['inherited property as enum name', { kind: 'toString' }, 'spans[0].kind: expected enum integer or name'],
    ['negative flags', { flags: -1 }, 'spans[0].flags: expected unsigned 32-bit integer, got -1'],
    ['status not an object', { status: 2 }, 'spans[0].status: expected object, got 2'],
    ['event time', { events: [{ timeUnixNano: true }] }, 'spans[0].events[0].timeUnixNano: expected integer string, got true'],
    ['link id', { links: [{ traceId: [] }] }, 'spans[0].links[0].traceId: expected hex string, got array'],
  ];
  for (const [name, patch, message] of spanCases) {
    it(`rejects ${name}`, () => {
      const err = decodeError(() => decodeTracesJson(request({ ...baseSpan, ...patch })));
      expect(err.message.startsWith('resourceSpans[0].scopeSpans[0].')).toBe(true);
      expect(err.message).toContain(message);
    });
  }

  it('rejects wrong container types', () => {
    expect(decodeError(() => decodeTracesJson('[]')).message).toBe('expected object, got array');
    expect(decodeError(() => decodeTracesJson('null')).message).toBe('expected object, got null');
    expect(decodeError(() => decodeTracesJson('{"resourceSpans": {}}')).message).toBe('resourceSpans: expected array, got object');
    expect(decodeError(() => decodeTracesJson('{"resourceSpans": [{"resource": []}]}')).message).toBe('resourceSpans[0].resource: expected object, got array');
    expect(decodeError(() => decodeTracesJson('{"resourceSpans": [{"scopeSpans": [{"scope": {"name": 1}}]}]}')).message).toBe(
      'resourceSpans[0].scopeSpans[0].scope.name: expected string, got 1',
    );
    expect(decodeError(() => decodeLogsJson('{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"severityNumber": "LOUD"}]}]}]}')).message).toBe(
      'resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber: expected enum integer or name, got "LOUD"',
    );
  });

  it('deep nesting fails cleanly instead of overflowing the stack', () => {
    const depth = 5_000;
    const value = `${'{"arrayValue":{"values":['.repeat(depth)}{"stringValue":"bottom"}${']}}'.repeat(depth)}`;
    const text = request({ ...baseSpan, attributes: [{ key: 'deep', value: 'PLACEHOLDER' }] }).replace('"PLACEHOLDER"', value);
    const err = decodeError(() => decodeTracesJson(text));
    expect(err.message).toMatch(/nesting deeper than 100 levels/);
  });
});
