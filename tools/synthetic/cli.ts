// npx tsx tools/synthetic/cli.ts --url http://127.0.0.1:4318 --requests 5000 --days 14 --seed demo
//   Generates synthetic RAG traffic and sends it through a running processor (OTLP/HTTP + /v1/feedback).
//   --prices-out FILE   also write the synthetic price book (use it as RAGSCOPE_PRICES_FILE for exact costs)
//   --order natural|children-first|shuffled   --batch N   --concurrency N   --dry-run (print a summary only)
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateDataset } from './generate.js';
import { sendDataset } from './send.js';
import { syntheticPriceBook } from './catalog.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4318' },
    requests: { type: 'string', default: '2000' },
    days: { type: 'string', default: '7' },
    seed: { type: 'string', default: 'ragscope' },
    order: { type: 'string', default: 'natural' },
    batch: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '2' },
    'prices-out': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
  },
});

const started = performance.now();
const ds = generateDataset({ seed: values.seed, requests: Number(values.requests), days: Number(values.days) });
const spans = ds.requests.reduce((n, r) => n + r.spans.length, 0);
console.log(
  `generated ${ds.requests.length} requests, ${spans} spans, ${ds.feedback.length} feedback, ${ds.evaluations.length} evaluations ` +
    `over ${new Date(ds.fromMs).toISOString()} .. ${new Date(ds.toMs).toISOString()} in ${Math.round(performance.now() - started)} ms`,
);
if (values['prices-out']) {
  writeFileSync(values['prices-out'], JSON.stringify(syntheticPriceBook(), null, 2));
  console.log(`wrote ${values['prices-out']}`);
}
if (!values['dry-run']) {
  const t0 = performance.now();
  const stats = await sendDataset(values.url!, ds, {
    order: values.order as 'natural' | 'children-first' | 'shuffled',
    batchSpans: Number(values.batch),
    concurrency: Number(values.concurrency),
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `sent ${stats.spans} spans in ${stats.traceRequests} requests, ${stats.logRecords} log records, ${stats.apiFeedback} API feedback ` +
      `in ${s.toFixed(1)} s (${Math.round(stats.spans / s)} spans/s, ${stats.retries} retries)`,
  );
}
