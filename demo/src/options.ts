// Command-line options of `npm run demo` (main.ts) and of the app itself (app.ts).

export interface TrafficFlags {
  requests: number;
  rate: number;
  duration: number;
  concurrency: number;
  seed: number;
  latency: number;
  faults: number;
  burst: number;
}

export interface DemoOptions extends TrafficFlags {
  url: string;
  otlp: string;
  dataDir: string;
  keep: boolean;
  summary: boolean;
  json: string;
  service: string;
  tenant: string;
  wait: number;
  help: boolean;
}

export interface AppOptions extends TrafficFlags {
  openaiUrl: string;
  anthropicUrl: string;
  /** How the app reports progress: over the IPC channel (run by main.ts), as log lines, or not at all. */
  progress: 'ipc' | 'lines' | 'none';
  users: number;
}

type Spec = Record<string, { kind: 'number' | 'string' | 'boolean'; default: number | string | boolean; min?: number }>;

export class OptionsError extends Error {}

/** Parses `--name value`, `--name=value`, `--flag` and `--no-flag`; names are kebab-case. */
export function parseArgs<T>(argv: readonly string[], spec: Spec): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) out[k] = v.default;
  const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new OptionsError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    let name = camel(arg.slice(2, eq < 0 ? undefined : eq));
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    let negated = false;
    if (!(name in spec) && name.startsWith('no') && camel(name.slice(2, 3).toLowerCase() + name.slice(3)) in spec) {
      name = name.slice(2, 3).toLowerCase() + name.slice(3);
      negated = true;
    }
    const s = spec[name];
    if (!s) throw new OptionsError(`unknown option "${arg}" (see --help)`);
    if (s.kind === 'boolean') {
      out[name] = negated ? false : value === undefined ? true : !/^(false|0|no)$/i.test(value);
      continue;
    }
    if (negated) throw new OptionsError(`"${arg}": --no- applies to flags only`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new OptionsError(`option --${arg.slice(2)} needs a value`);
    }
    if (s.kind === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < (s.min ?? 0)) throw new OptionsError(`--${arg.slice(2)}: expected a number >= ${s.min ?? 0}, got "${value}"`);
      out[name] = n;
    } else {
      out[name] = value;
    }
  }
  return out as T;
}

const TRAFFIC_SPEC: Spec = {
  requests: { kind: 'number', default: 60 },
  rate: { kind: 'number', default: 15, min: 0.01 },
  duration: { kind: 'number', default: 0 },
  concurrency: { kind: 'number', default: 16, min: 1 },
  seed: { kind: 'number', default: -1, min: -1 },
  latency: { kind: 'number', default: 1 },
  faults: { kind: 'number', default: 1 },
  burst: { kind: 'number', default: 0 },
};

export function defaultProcessorUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.RAGSCOPE_URL ?? `http://127.0.0.1:${env.RAGSCOPE_PORT ?? '4318'}`;
}

export function parseDemoOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DemoOptions {
  const o = parseArgs<DemoOptions>(argv, {
    ...TRAFFIC_SPEC,
    url: { kind: 'string', default: defaultProcessorUrl(env) },
    otlp: { kind: 'string', default: '' },
    dataDir: { kind: 'string', default: env.RAGSCOPE_DATA_DIR ?? '' },
    keep: { kind: 'boolean', default: false },
    summary: { kind: 'boolean', default: true },
    json: { kind: 'string', default: '' },
    service: { kind: 'string', default: 'ragscope-demo' },
    tenant: { kind: 'string', default: env.RAGSCOPE_TENANT ?? 'default' },
    wait: { kind: 'number', default: 30 },
    help: { kind: 'boolean', default: false },
  });
  o.url = o.url.replace(/\/+$/, '');
  o.otlp = (o.otlp || o.url).replace(/\/+$/, '');
  if (o.requests === 0 && o.duration === 0) throw new OptionsError('--requests 0 (no limit) needs a --duration');
  if (o.seed < 0) o.seed = Math.floor(Math.random() * 1_000_000);
  return o;
}

export function parseAppOptions(argv: readonly string[]): AppOptions {
  const o = parseArgs<AppOptions>(argv, {
    ...TRAFFIC_SPEC,
    openaiUrl: { kind: 'string', default: '' },
    anthropicUrl: { kind: 'string', default: '' },
    progress: { kind: 'string', default: 'lines' },
    users: { kind: 'number', default: 24, min: 1 },
  });
  if (!['ipc', 'lines', 'none'].includes(o.progress)) throw new OptionsError(`--progress: ipc, lines or none, got "${o.progress}"`);
  if (o.seed < 0) o.seed = Math.floor(Math.random() * 1_000_000);
  return o;
}

export const DEMO_HELP = `npm run demo -- [options]

Runs a small RAG application instrumented with @ragscope/instrumentation against local stubs of the OpenAI
and Anthropic APIs, sends its telemetry to the ragscope processor (started on the embedded store if none is
running), and prints a summary read back from ClickHouse.

Traffic
  --requests N      requests to send (default 60; 0 = no limit, needs --duration)
  --rate R          new requests per second (default 15)
  --duration S      stop starting requests after S seconds (default: no limit)
  --concurrency C   requests in flight at most (default 16)
  --latency X       scale the simulated provider latencies (default 1; 0.2 = five times faster)
  --faults X        scale the simulated provider error rates (default 1; 0 = no 429s or 5xx)
  --seed N          seed of the simulation (default random; printed at the start)

Processor
  --url URL         processor base URL (default $RAGSCOPE_URL or http://127.0.0.1:$RAGSCOPE_PORT|4318)
  --otlp URL        where the app sends OTLP, e.g. an OpenTelemetry Collector (default: --url)
  --data-dir DIR    embedded store of a processor the demo starts (default $RAGSCOPE_DATA_DIR or ./data)
  --keep            leave a processor the demo started running afterwards
  --tenant T        tenant the processor writes (default $RAGSCOPE_TENANT or "default")

Output
  --no-summary      do not query ClickHouse for the summary
  --json FILE       also write the summary as JSON to FILE ("-" = stdout, then nothing else is printed there)
  --service NAME    service.name of the app (default ragscope-demo)
  --wait S          seconds to wait for the telemetry to be stored (default 30)
  -h, --help
`;
