// npm run bench:queries [-- --spans 10000000 --data-dir DIR --reuse --runs 5 --twin-runs 3 --no-twins --only a,b --queries-dir DIR
//                          --baseline-queries-dir DIR]
//
// Every example query (clickhouse/queries) answered two ways on the same embedded store, same run:
//   rollup: the query as shipped, reading the materialized rollups;
//   twin:   the same question answered the way OpenLIT's dashboards do it, casting otel_traces
//           SpanAttributes (Map(String, String)) values at query time (and otel_logs for evaluations).
// Load: a seeded synthetic base set goes through the processor's own pipeline (normalize, dedupe, price,
// rows) into genai_spans and otel_traces; it is then replicated inside ClickHouse (INSERT ... SELECT with
// new trace/span/response ids and shifted timestamps) up to --spans GenAI spans. The materialized views
// fire on those inserts exactly as on the processor's. The conversation-signals job (migration 0027) then runs one
// full pass over the whole store and one incremental pass, timed, as the processor would after such a load.
// --baseline-queries-dir: also time each query of that directory with the same name (e.g. the read-time form of
// the conversation queries from an earlier commit) in the same run. Prints a table, writes bench/results/queries.json.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../processor/src/config.js';
import { openStore, type StoreClients } from '../processor/src/store/clickhouse.js';
import { migrate } from '../processor/src/store/migrations.js';
import { listNamedQueries, resolveParams, type NamedQuery } from '../processor/src/query/named-queries.js';
import { ConversationSignalsJob } from '../processor/src/derive/conversation-signals.js';
import { CHAT_MODELS, EMBEDDING_MODEL, generateDataset, loadDirect, startOfCurrentHourMs, syntheticPriceBook } from '../tools/synthetic/index.js';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '10000000' },
    'base-spans': { type: 'string', default: '500000' },
    days: { type: 'string', default: '28' },
    runs: { type: 'string', default: '5' },
    'twin-runs': { type: 'string', default: '3' },
    // Rollup queries only (a quick before/after of query changes on a kept store; the twins are the slow part).
    'no-twins': { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    reuse: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    seed: { type: 'string', default: 'bench-queries' },
    only: { type: 'string' },
    // Another directory of named queries (e.g. the previous version) to compare on the same kept store.
    'queries-dir': { type: 'string' },
    // Named queries to time next to the shipped ones (same names), on the same store, in the same run.
    'baseline-queries-dir': { type: 'string' },
    out: { type: 'string', default: 'bench/results/queries.json' },
  },
});

const TARGET = Number(args.spans);
const BASE = Math.min(TARGET, Number(args['base-spans']));
const DAYS = Number(args.days);
const RUNS = Number(args.runs);
const TWIN_RUNS = Number(args['twin-runs']);
const log = (...m: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...m);

// ------------------------------------------------------------------------------------------------ twins

function priceArrays(): { models: string; pin: string; pcr: string; pcw: string; pout: string; prs: string } {
  const names: string[] = [];
  const cols: number[][] = [[], [], [], [], []];
  for (const spec of [...Object.values(CHAT_MODELS), EMBEDDING_MODEL]) {
    if (!spec.prices) continue;
    for (const name of new Set([spec.requestModel, spec.responseModel])) {
      names.push(`'${name}'`);
      const p = spec.prices;
      [p.input, p.cacheRead, p.cacheWrite, p.output, p.reasoning].forEach((v, i) => cols[i].push(v / 1e12));
    }
  }
  const arr = (xs: number[]) => `[${xs.map((x) => x.toExponential()).join(', ')}]`;
  return { models: `[${names.join(', ')}]`, pin: arr(cols[0]), pcr: arr(cols[1]), pcw: arr(cols[2]), pout: arr(cols[3]), prs: arr(cols[4]) };
}

const P = priceArrays();
/** Per-span expressions over the attribute map, as a map-scan dashboard writes them. */
const SPAN = `
    SpanAttributes['gen_ai.operation.name'] AS op,
    SpanAttributes['ragscope.rag.stage'] AS stage,
    SpanAttributes['gen_ai.provider.name'] AS provider,
    if(SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'], SpanAttributes['gen_ai.request.model']) AS model,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.input_tokens']) AS in_t,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.output_tokens']) AS out_t,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.cache_read.input_tokens']) AS cr_t,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.cache_creation.input_tokens']) AS cw_t,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.reasoning.output_tokens']) AS rs_t,
    (in_t - cr_t - cw_t) * transform(model, ${P.models}, ${P.pin}, 0.)
      + cr_t * transform(model, ${P.models}, ${P.pcr}, 0.) + cw_t * transform(model, ${P.models}, ${P.pcw}, 0.)
      + (out_t - rs_t) * transform(model, ${P.models}, ${P.pout}, 0.) + rs_t * transform(model, ${P.models}, ${P.prs}, 0.) AS cost,
    SpanAttributes['ragscope.feature'] AS feature,
    SpanAttributes['ragscope.experiment'] AS experiment,
    SpanAttributes['ragscope.variant'] AS variant,
    SpanAttributes['user.id'] AS user_id,
    SpanAttributes['error.type'] AS error_type,
    Duration / 1e6 AS ms,
    toFloat64OrNull(SpanAttributes['gen_ai.response.time_to_first_chunk']) * 1000 AS ttft_ms,
    op IN ('chat', 'text_completion', 'generate_content', 'embeddings') AS is_model_call,
    op IN ('chat', 'text_completion', 'generate_content') AS is_llm,
    ParentSpanId = '' AS is_root`;
const RANGE = `Timestamp >= {from:DateTime} AND Timestamp < {to:DateTime}`;
const DAY_RANGE = `Timestamp >= toStartOfDay({from:DateTime}) AND Timestamp < toStartOfDay({to:DateTime} - 1) + INTERVAL 1 DAY`;
const DOCS = `JSONExtract(SpanAttributes['gen_ai.retrieval.documents'], 'Array(Tuple(id String, score Float64))')`;
const RL = `match(error_type, '(?i)^429$|rate.?limit|too.?many.?requests|throttl|resource.?exhausted')`;
/** Per-request facts from raw spans (the map-scan equivalent of the `requests` view). */
const PER_TRACE = (where: string) => `
    SELECT TraceId, max(user_id) AS user_id, max(feature) AS feature, max(experiment) AS experiment, max(variant) AS variant,
           argMaxIf(model, Timestamp, is_llm) AS model, sum(in_t + out_t) AS tokens, sum(cost) AS cost, min(Timestamp) AS started,
           maxIf(ms, is_root) AS total_ms, countIf(StatusCode = 'Error') > 0 AS has_error,
           max(SpanAttributes['ragscope.query.fingerprint']) AS fingerprint,
           maxIf(toUInt8(SpanAttributes['ragscope.response_cache.hit'] = 'true'), is_root) AS cache_hit,
           sumIf(length(${DOCS}), op = 'retrieval') AS docs,
           avgArrayIf(arrayMap(d -> d.2, ${DOCS}), op = 'retrieval') AS avg_relevance,
           length(groupUniqArrayArray(JSONExtract(SpanAttributes['ragscope.citation.cited_ids'], 'Array(String)'))) AS cited,
           maxIf(toUnixTimestamp64Micro(Timestamp) + Duration / 1000, stage = 'embedding') - minIf(toUnixTimestamp64Micro(Timestamp), stage = 'embedding') AS embedding_us,
           maxIf(toUnixTimestamp64Micro(Timestamp) + Duration / 1000, stage = 'retrieval') - minIf(toUnixTimestamp64Micro(Timestamp), stage = 'retrieval') AS retrieval_us,
           maxIf(toUnixTimestamp64Micro(Timestamp) + Duration / 1000, stage = 'generation') - minIf(toUnixTimestamp64Micro(Timestamp), stage = 'generation') AS generation_us
    FROM (SELECT *, ${SPAN} FROM otel_traces WHERE ${where})
    GROUP BY TraceId`;
const FEEDBACK = `SELECT TraceId, Kind, Thumbs, NormalizedScore FROM feedback_latest WHERE TenantId = {tenant:String} AND Timestamp >= {from:DateTime} AND Timestamp < {to:DateTime} AND TraceId != ''`;
const spans = (where: string) => `(SELECT *, ${SPAN} FROM otel_traces WHERE ${where})`;

export const TWINS: Record<string, string> = {
  cost_per_model_per_day: `
    SELECT toDate(Timestamp) AS day, provider, model, count() AS calls, sum(in_t) AS input_tokens, sum(out_t) AS output_tokens,
           sum(cr_t) AS cache_read_tokens, sum(cw_t) AS cache_write_tokens, sum(rs_t) AS reasoning_tokens, sum(cost) AS cost_usd
    FROM ${spans(DAY_RANGE)} WHERE is_model_call AND model != '' GROUP BY day, provider, model ORDER BY day, cost_usd DESC`,
  top_users_by_cost: `
    SELECT user_id, uniqExact(TraceId) AS requests, sum(in_t + out_t) AS total_tokens, sum(cost) AS cost_usd
    FROM ${spans(RANGE)} WHERE user_id != '' GROUP BY user_id ORDER BY cost_usd DESC LIMIT {limit:UInt32}`,
  top_features_by_cost: `
    SELECT feature, countIf(is_root) AS requests, countIf(is_llm) AS llm_calls, sum(in_t + out_t) AS total_tokens, sum(cost) AS cost_usd
    FROM ${spans(DAY_RANGE)} GROUP BY feature ORDER BY cost_usd DESC`,
  latency_percentiles_per_stage_hourly: `
    SELECT toStartOfHour(Timestamp) AS hour, stage, count() AS calls, avg(ms) AS avg_ms, quantiles(0.5, 0.9, 0.95, 0.99)(ms) AS q, max(ms) AS max_ms
    FROM ${spans(RANGE)} WHERE stage != '' GROUP BY hour, stage ORDER BY hour, stage`,
  sla_breach_rate: `
    SELECT toDate(Timestamp) AS day, stage, count() AS calls, countIf(ms > {sla_ms:UInt32}) AS breaches, breaches / calls AS breach_rate
    FROM ${spans(RANGE)} WHERE stage != '' GROUP BY day, stage ORDER BY day, stage`,
  ttft_p95_streaming: `
    SELECT toDate(Timestamp) AS day, provider, model, countIf(SpanAttributes['gen_ai.request.stream'] = 'true') AS streaming_calls,
           count(ttft_ms) AS ttft_samples, avg(ttft_ms) AS avg_ttft_ms, quantiles(0.5, 0.95, 0.99)(ttft_ms) AS q
    FROM ${spans(RANGE)} WHERE is_llm GROUP BY day, provider, model HAVING ttft_samples > 0 ORDER BY day, provider, model`,
  token_efficiency_by_model: `
    SELECT provider, model, countIf(in_t > 0) AS calls_with_usage, sum(in_t) AS input_tokens, sum(out_t) AS output_tokens,
           output_tokens / input_tokens AS output_per_input, sum(cr_t) / input_tokens AS cache_read_share, sum(rs_t) / output_tokens AS reasoning_share
    FROM ${spans(DAY_RANGE)} WHERE is_llm AND model != '' GROUP BY provider, model HAVING input_tokens > 0 ORDER BY output_per_input DESC`,
  retrieval_quality: `
    SELECT toDate(Timestamp) AS day, feature, countIf(op = 'retrieval') AS retrievals,
           sumIf(length(${DOCS}), op = 'retrieval') / retrievals AS documents_per_retrieval,
           avgArrayIf(arrayMap(d -> d.2, ${DOCS}), op = 'retrieval') AS avg_relevance,
           countIf(op = 'retrieval' AND length(${DOCS}) = 0) / retrievals AS empty_retrieval_rate,
           sum(length(JSONExtract(SpanAttributes['ragscope.citation.cited_ids'], 'Array(String)'))) / sumIf(length(${DOCS}), op = 'retrieval') AS citation_usage_rate,
           sum(toUInt64OrZero(SpanAttributes['ragscope.citation.invalid_count'])) AS invalid_citations
    FROM ${spans(RANGE)} WHERE op IN ('retrieval', 'rerank', 'context_assembly', 'post_processing') GROUP BY day, feature HAVING retrievals > 0 ORDER BY day, feature`,
  low_rated_requests: `
    WITH low AS (SELECT TraceId, FeedbackId, Timestamp, Kind, Thumbs, Rating, Comment FROM feedback_latest
                 WHERE TenantId = {tenant:String} AND Timestamp >= {from:DateTime} AND Timestamp < {to:DateTime} AND NormalizedScore < 0.4 AND TraceId != '')
    SELECT low.*, r.fingerprint, r.model, r.avg_relevance, r.cost, r.total_ms, r.query_text
    FROM low LEFT JOIN (
        SELECT TraceId, max(SpanAttributes['ragscope.query.fingerprint']) AS fingerprint, argMaxIf(model, Timestamp, is_llm) AS model,
               avgArrayIf(arrayMap(d -> d.2, ${DOCS}), op = 'retrieval') AS avg_relevance, sum(cost) AS cost, maxIf(ms, is_root) AS total_ms,
               max(SpanAttributes['gen_ai.retrieval.query.text']) AS query_text
        FROM ${spans(`Timestamp >= {from:DateTime} - INTERVAL 30 DAY AND Timestamp < {to:DateTime}`)} GROUP BY TraceId) AS r ON r.TraceId = low.TraceId
    ORDER BY low.Timestamp DESC LIMIT {limit:UInt32}`,
  feedback_rate_and_ratings: `
    SELECT day, requests, f.Feedback AS feedback, feedback / requests AS feedback_rate, f.ThumbsUp, f.ThumbsDown, f.Rating1, f.Rating2, f.Rating3, f.Rating4, f.Rating5, f.AvgRating
    FROM (SELECT toDate(Timestamp) AS day, countIf(is_root) AS requests FROM ${spans(DAY_RANGE)} GROUP BY day) AS u
    FULL OUTER JOIN (SELECT * FROM feedback_daily WHERE TenantId = {tenant:String}) AS f ON f.Day = u.day ORDER BY day`,
  thumbs_down_by_model: `
    WITH fb AS (${FEEDBACK})
    SELECT r.model AS model, count() AS feedback, countIf(fb.Thumbs = 'down') AS thumbs_down, thumbs_down / countIf(fb.Kind = 'thumbs') AS thumbs_down_rate
    FROM fb INNER JOIN (SELECT TraceId, argMaxIf(model, Timestamp, is_llm) AS model FROM ${spans(`Timestamp >= {from:DateTime} - INTERVAL 30 DAY AND Timestamp < {to:DateTime}`)} GROUP BY TraceId) AS r
    ON r.TraceId = fb.TraceId GROUP BY model ORDER BY thumbs_down_rate DESC`,
  thumbs_down_by_variant: `
    WITH fb AS (${FEEDBACK})
    SELECT r.experiment AS experiment, r.variant AS variant, count() AS feedback, countIf(fb.Thumbs = 'down') / countIf(fb.Kind = 'thumbs') AS thumbs_down_rate
    FROM fb INNER JOIN (SELECT TraceId, max(experiment) AS experiment, max(variant) AS variant FROM ${spans(`Timestamp >= {from:DateTime} - INTERVAL 30 DAY AND Timestamp < {to:DateTime}`)} GROUP BY TraceId) AS r
    ON r.TraceId = fb.TraceId WHERE experiment != '' GROUP BY experiment, variant ORDER BY experiment, variant`,
  ab_variant_comparison: `
    WITH fb AS (${FEEDBACK})
    SELECT t.experiment, t.variant, t.requests, t.cost_usd, t.cost_usd / t.requests AS cost_per_request, t.q, t.failure_rate, t.avg_relevance, f.feedback, f.positive_rate
    FROM (
        SELECT experiment, variant, uniqExact(TraceId) AS requests, sum(cost) AS cost_usd, quantilesIf(0.5, 0.95)(ms, is_root) AS q,
               countIf(is_root AND StatusCode = 'Error') / countIf(is_root) AS failure_rate, avgArrayIf(arrayMap(d -> d.2, ${DOCS}), op = 'retrieval') AS avg_relevance
        FROM ${spans(RANGE)} WHERE experiment != '' GROUP BY experiment, variant) AS t
    LEFT JOIN (
        SELECT r.experiment AS experiment, r.variant AS variant, count() AS feedback, countIf(fb.NormalizedScore >= 0.5) / count() AS positive_rate
        FROM fb INNER JOIN (SELECT TraceId, max(experiment) AS experiment, max(variant) AS variant FROM ${spans(`Timestamp >= {from:DateTime} - INTERVAL 30 DAY AND Timestamp < {to:DateTime}`)} GROUP BY TraceId) AS r
        ON r.TraceId = fb.TraceId GROUP BY experiment, variant) AS f ON f.experiment = t.experiment AND f.variant = t.variant
    ORDER BY experiment, variant`,
  rate_limit_incidents: `
    SELECT toStartOfHour(Timestamp) AS hour, provider, model, countIf(${RL}) AS rate_limited_calls, count() AS calls, rate_limited_calls / calls AS share
    FROM ${spans(RANGE)} WHERE is_model_call GROUP BY hour, provider, model HAVING rate_limited_calls >= {min_rate_limited:UInt32} ORDER BY hour`,
  error_breakdown: `
    SELECT error_type, provider, model, op AS operation, countIf(StatusCode = 'Error' OR error_type != '') AS errors, countIf(${RL}) AS rate_limited, count() AS calls,
           errors / calls AS error_rate
    FROM ${spans(RANGE)} GROUP BY error_type, provider, model, operation HAVING errors > 0 ORDER BY errors DESC`,
  response_cache_savings: `
    SELECT feature, countIf(is_root) AS requests, countIf(is_root AND SpanAttributes['ragscope.response_cache.hit'] = 'true') AS hits,
           hits / requests AS hit_rate, sum(cost) AS cost_usd, hits * cost_usd / (requests - hits) AS estimated_savings_usd
    FROM ${spans(DAY_RANGE)} GROUP BY feature ORDER BY estimated_savings_usd DESC`,
  prompt_cache_savings: `
    SELECT provider, model, sum(in_t) AS input_tokens, sum(cr_t) AS cache_read_tokens, cache_read_tokens / input_tokens AS share,
           sum(cr_t * (transform(model, ${P.models}, ${P.pin}, 0.) - transform(model, ${P.models}, ${P.pcr}, 0.))) AS estimated_savings_usd
    FROM ${spans(DAY_RANGE)} WHERE is_llm AND model != '' GROUP BY provider, model HAVING input_tokens > 0 ORDER BY estimated_savings_usd DESC`,
  most_repeated_questions: `
    SELECT fingerprint, count() AS requests, uniqExact(user_id) AS users, avg(total_ms) AS avg_latency_ms, sum(cache_hit) AS cache_hits,
           min(started) AS first_seen, max(started) AS last_seen, avg(tokens) AS avg_tokens, avg(cost) AS avg_cost_usd
    FROM (${PER_TRACE(DAY_RANGE)}) WHERE fingerprint != '' GROUP BY fingerprint ORDER BY requests DESC, fingerprint LIMIT {limit:UInt32}`,
  month_end_cost_projection: `
    WITH toDate({to:DateTime} - 1) AS as_of_day, toDate({from:DateTime}) AS window_start, toStartOfMonth(as_of_day) AS month_start
    SELECT sumIf(cost, toDate(Timestamp) >= month_start) AS month_to_date_usd, sumIf(cost, toDate(Timestamp) >= window_start) AS window_cost_usd,
           window_cost_usd / (dateDiff('day', window_start, as_of_day) + 1) AS daily_rate_usd,
           month_to_date_usd + daily_rate_usd * dateDiff('day', as_of_day, toLastDayOfMonth(as_of_day)) AS projected_month_usd
    FROM ${spans(`Timestamp >= least(toStartOfMonth(toDate({to:DateTime} - 1)), toDate({from:DateTime})) AND Timestamp < toDate({to:DateTime} - 1) + 1`)}`,
  period_over_period: `
    WITH toDate({from:DateTime}) AS cur_start, toDate({to:DateTime} - 1) AS cur_end, cur_start - (dateDiff('day', cur_start, cur_end) + 1) AS prev_start
    SELECT feature, countIf(is_root AND toDate(Timestamp) >= cur_start) AS requests, countIf(is_root AND toDate(Timestamp) < cur_start) AS prev_requests,
           sumIf(cost, toDate(Timestamp) >= cur_start) AS cost_usd, sumIf(cost, toDate(Timestamp) < cur_start) AS prev_cost_usd, cost_usd / prev_cost_usd - 1 AS cost_change,
           sumIf(in_t + out_t, toDate(Timestamp) >= cur_start) AS tokens, sumIf(in_t + out_t, toDate(Timestamp) < cur_start) AS prev_tokens
    FROM ${spans(`Timestamp >= toDate({from:DateTime}) - (dateDiff('day', toDate({from:DateTime}), toDate({to:DateTime} - 1)) + 1) AND Timestamp < toDate({to:DateTime} - 1) + 1`)}
    GROUP BY feature ORDER BY cost_usd DESC`,
  evaluation_score_distribution: `
    SELECT LogAttributes['gen_ai.evaluation.name'] AS name, count() AS evaluations, avg(toFloat64OrNull(LogAttributes['gen_ai.evaluation.score.value'])) AS mean_score,
           quantiles(0.1, 0.25, 0.5, 0.75, 0.9)(toFloat64OrNull(LogAttributes['gen_ai.evaluation.score.value'])) AS q,
           countMap(map(LogAttributes['gen_ai.evaluation.score.label'], 1)) AS labels
    FROM otel_logs WHERE EventName = 'gen_ai.evaluation.result' AND LogAttributes['gen_ai.evaluation.name'] != 'user_feedback'
      AND TimestampTime >= toStartOfDay({from:DateTime}) AND TimestampTime < toStartOfDay({to:DateTime} - 1) + INTERVAL 1 DAY
    GROUP BY name ORDER BY name`,
  prediction_precision_recall: `
    SELECT name, model, label, countIf(p = label AND a = label) AS tp, countIf(p = label) AS predicted, countIf(a = label) AS actual, tp / predicted AS precision, tp / actual AS recall
    FROM (SELECT LogAttributes['gen_ai.evaluation.name'] AS name, LogAttributes['gen_ai.response.model'] AS model,
                 LogAttributes['ragscope.evaluation.predicted'] AS p, LogAttributes['ragscope.evaluation.actual'] AS a
          FROM otel_logs WHERE EventName = 'gen_ai.evaluation.result' AND p != '' AND a != ''
            AND TimestampTime >= toStartOfDay({from:DateTime}) AND TimestampTime < toStartOfDay({to:DateTime} - 1) + INTERVAL 1 DAY)
    ARRAY JOIN arrayDistinct([p, a]) AS label GROUP BY name, model, label ORDER BY name, model, label`,
  request_stage_breakdown: `
    SELECT feature, count() AS requests, avg(total_ms) AS avg_total_ms, quantileExact(0.95)(total_ms) AS p95_total_ms,
           avg(embedding_us) / 1000 AS avg_embedding_ms, avg(retrieval_us) / 1000 AS avg_retrieval_ms, avg(generation_us) / 1000 AS avg_generation_ms,
           avg(tokens) AS avg_tokens, avg(cost) AS avg_cost_usd, avg(docs) AS avg_documents_retrieved, avg(cited) AS avg_documents_cited,
           avg(cache_hit) AS cache_hit_rate, avg(has_error) AS failure_rate
    FROM (${PER_TRACE(`Timestamp >= {from:DateTime} - INTERVAL 1 HOUR AND Timestamp < {to:DateTime} + INTERVAL 1 HOUR`)})
    WHERE started >= {from:DateTime} AND started < {to:DateTime} GROUP BY feature ORDER BY requests DESC`,
};

// ------------------------------------------------------------------------------------------------ load

async function count(store: StoreClients, table: string): Promise<number> {
  const rs = await store.writer.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0].n);
}

async function command(store: StoreClients, sql: string, settings: Record<string, string | number> = {}): Promise<void> {
  await store.writer.command({ query: sql, clickhouse_settings: settings });
}

const NEW_ID = (col: string, len: number) => `substring(lower(hex(MD5(concat(${col}, toString(copy))))), 1, ${len})`;

async function replicate(store: StoreClients, copies: number): Promise<void> {
  // Snapshots of the base rows (plain MergeTree, no views), then copies with fresh ids, shifted by a few
  // minutes each so hours and days stay populated the same way.
  await command(store, 'DROP TABLE IF EXISTS bench_genai_base');
  await command(store, 'DROP TABLE IF EXISTS bench_traces_base');
  await command(store, 'CREATE TABLE bench_genai_base AS genai_spans ENGINE = MergeTree ORDER BY tuple()');
  await command(store, 'INSERT INTO bench_genai_base SELECT * FROM genai_spans');
  await command(store, 'CREATE TABLE bench_traces_base AS otel_traces ENGINE = MergeTree ORDER BY tuple()');
  await command(store, 'INSERT INTO bench_traces_base SELECT * FROM otel_traces');
  // A fresh deduplication token per insert: the embedded engine keeps per-query settings for the session, and without
  // one every copy reused the base load's last token and was dropped as a duplicate (earlier runs stopped at 2 copies' worth).
  const settings = () => ({ max_insert_threads: 2, max_threads: 2, min_insert_block_size_rows: 1_000_000, max_block_size: 262144, insert_deduplication_token: randomUUID() });
  for (let copy = 1; copy <= copies; copy++) {
    const shift = `toIntervalSecond(${(copy * 7919) % 3600})`;
    const t0 = performance.now();
    await command(
      store,
      `INSERT INTO genai_spans SELECT * EXCEPT copy REPLACE (
         ${NEW_ID('TraceId', 32)} AS TraceId, ${NEW_ID('SpanId', 16)} AS SpanId,
         if(ParentSpanId = '', '', ${NEW_ID('ParentSpanId', 16)}) AS ParentSpanId,
         if(ResponseId = '', '', concat(ResponseId, '-', toString(copy))) AS ResponseId,
         Timestamp + ${shift} AS Timestamp)
       FROM (SELECT *, ${copy} AS copy FROM bench_genai_base)`,
      settings(),
    );
    const t1 = performance.now();
    await command(
      store,
      `INSERT INTO otel_traces SELECT * EXCEPT copy REPLACE (
         ${NEW_ID('TraceId', 32)} AS TraceId, ${NEW_ID('SpanId', 16)} AS SpanId,
         if(ParentSpanId = '', '', ${NEW_ID('ParentSpanId', 16)}) AS ParentSpanId,
         Timestamp + ${shift} AS Timestamp)
       FROM (SELECT *, ${copy} AS copy FROM bench_traces_base)`,
      settings(),
    );
    log(`copy ${copy}/${copies}: genai_spans ${((performance.now() - t0) / 1000).toFixed(1)} s (${((t1 - t0) / 1000).toFixed(1)} with views), otel_traces ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  }
  await command(store, 'DROP TABLE bench_genai_base');
  await command(store, 'DROP TABLE bench_traces_base');
}

// ------------------------------------------------------------------------------------------------ measure

interface Timing {
  medianMs: number;
  minMs: number;
  runs: number[];
  rows: number;
}

async function time(store: StoreClients, sql: string, params: Record<string, unknown>, runs: number): Promise<Timing> {
  const out: number[] = [];
  let rows = 0;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const rs = await store.writer.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    const data = await rs.json();
    const ms = performance.now() - t0;
    rows = data.length;
    if (i > 0) out.push(ms); // first run warms caches
  }
  const sorted = [...out].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], runs: out.map((x) => Math.round(x * 10) / 10), rows };
}

async function storage(store: StoreClients): Promise<Record<string, { rows: number; compressedBytes: number; uncompressedBytes: number }>> {
  const rs = await store.writer.query({
    // A table's projections (request_rollup's by_trace_hash, 0030) are stored with it: their bytes count too.
    query: `SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) + any(pc) AS c, sum(data_uncompressed_bytes) + any(pu) AS u
            FROM system.parts AS p
            LEFT JOIN (SELECT table, sum(data_compressed_bytes) AS pc, sum(data_uncompressed_bytes) AS pu FROM system.projection_parts
                       WHERE database = currentDatabase() AND active GROUP BY table) AS pp USING (table)
            WHERE p.database = currentDatabase() AND p.active GROUP BY table ORDER BY table`,
    format: 'JSONEachRow',
  });
  const out: Record<string, { rows: number; compressedBytes: number; uncompressedBytes: number }> = {};
  for (const r of await rs.json<{ table: string; rows: string; c: string; u: string }>()) {
    out[r.table] = { rows: Number(r.rows), compressedBytes: Number(r.c), uncompressedBytes: Number(r.u) };
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const dataDir = args['data-dir'] ?? mkdtempSync(join(tmpdir(), 'ragscope-bench-queries-'));
  const priceFile = join(dataDir, '..', `bench-prices-${process.pid}.json`);
  writeFileSync(priceFile, JSON.stringify(syntheticPriceBook()));
  const config = loadConfig({ RAGSCOPE_GRPC_PORT: 'off', RAGSCOPE_DATA_DIR: dataDir, RAGSCOPE_PRICES_FILE: priceFile, RAGSCOPE_LOG_LEVEL: 'silent' });
  const store = await openStore(config, { timeoutSeconds: 3600, maxRows: 1e9, maxMemoryBytes: 8 * 2 ** 30, maxResultBytes: 2 ** 31 });
  const started = performance.now();
  const load: Record<string, number> = {};
  try {
    await migrate(store.writer, { RAW_TTL_DAYS: 30, ROLLUP_TTL_DAYS: 400 });
    let existing = await count(store, 'genai_spans');
    const toMs = startOfCurrentHourMs() + 2 * 3_600_000;
    if (!(args.reuse && existing > 0)) {
      if (existing > 0) throw new Error(`${dataDir} already holds ${existing} spans: pass --reuse or a fresh --data-dir`);
      const requests = Math.ceil(BASE / 5.6);
      let t = performance.now();
      const ds = generateDataset({ seed: args.seed, requests, days: DAYS, withFeedback: true });
      load.generateSeconds = (performance.now() - t) / 1000;
      log(`generated ${ds.requests.length} requests (${ds.requests.reduce((n, r) => n + r.spans.length, 0)} spans) in ${load.generateSeconds.toFixed(1)} s`);
      t = performance.now();
      const st = await loadDirect(store.writer, ds, { pricesFile: priceFile, batchSpans: 100_000, onProgress: (d, n) => log(`pipeline + insert: ${d}/${n} spans`) });
      load.baseLoadSeconds = (performance.now() - t) / 1000;
      load.baseSpans = st.genaiRows;
      log(`base load through the processor pipeline: ${st.genaiRows} GenAI spans in ${load.baseLoadSeconds.toFixed(1)} s (${Math.round(st.genaiRows / load.baseLoadSeconds)} spans/s), ${st.feedbackRows} feedback, ${st.evaluationRows} evaluations`);
      // Storage of the base set before replication: copies share attribute values, so they compress better
      // than real traffic would; this figure is the honest one for bytes per span.
      const baseSizes = await storage(store);
      load.baseGenaiBytesPerSpan = round((baseSizes.genai_spans?.compressedBytes ?? 0) / st.genaiRows);
      load.baseTracesBytesPerSpan = round((baseSizes.otel_traces?.compressedBytes ?? 0) / st.genaiRows);
      log(`base storage: genai_spans ${load.baseGenaiBytesPerSpan} B/span, otel_traces ${load.baseTracesBytesPerSpan} B/span (compressed)`);
      const copies = Math.max(0, Math.ceil(TARGET / st.genaiRows) - 1);
      t = performance.now();
      if (copies > 0) await replicate(store, copies);
      load.replicateSeconds = (performance.now() - t) / 1000;
      load.copies = copies;
      t = performance.now();
      // Background merges would get there over time; do it now so every run measures the same layout.
      for (const table of ['usage_cost_hourly', 'usage_cost_daily', 'latency_hourly', 'request_rollup', 'retrieval_quality_hourly', 'query_patterns_daily', 'errors_hourly', 'evaluations_daily', 'prediction_outcomes_daily', 'response_lookup', 'feedback', 'user_usage_daily', 'conversation_turns', 'request_facts']) {
        await command(store, `OPTIMIZE TABLE ${table} FINAL`);
      }
      load.optimizeRollupsSeconds = (performance.now() - t) / 1000;
      existing = await count(store, 'genai_spans');
    }
    const genaiSpans = existing;
    log(`store holds ${genaiSpans} GenAI spans`);
    // The conversation-signals job as the processor runs it (its own writer session, the default thresholds),
    // at the bench's instant: a full pass (first pass on this store, or the whole store after a reuse), then an
    // incremental one (nothing changed: the steady-state cost of a pass).
    // insertSlackMs 0: the bulk load above has just ended, and the default 60 s overlap would make the second pass
    // recompute it all again; the steady state is a pass long after the rows' insertion.
    let t0Optimize = 0;
    const job = new ConversationSignalsJob(await store.openWriter(), () => toMs, { ...config.signals, intervalSeconds: 0, insertSlackMs: 0 });
    for (const kind of ['signalsFirstPass', 'signalsNextPass'] as const) {
      const t = performance.now();
      const passes = await job.refresh();
      load[`${kind}Seconds`] = round((performance.now() - t) / 1000);
      load[`${kind}Rows`] = passes.reduce((n, p) => n + p.rows, 0);
      log(`conversation signals ${kind}: ${load[`${kind}Rows`]} rows in ${load[`${kind}Seconds`]} s (${passes.map((p) => `${p.tenant}: ${p.full ? 'full' : 'incremental'} from ${p.from?.toISOString() ?? '-'}`).join(', ')})`);
    }
    await job.stop();
    // Like the rollups above: background merges get the stored signals to one part per partition over time; do it
    // now so FINAL reads the steady-state layout, not the bulk load's overlapping parts.
    t0Optimize = performance.now();
    await command(store, 'OPTIMIZE TABLE conversation_signals FINAL');
    load.optimizeSignalsSeconds = round((performance.now() - t0Optimize) / 1000);
    load.conversationSignalsRows = await count(store, 'conversation_signals FINAL');
    load.conversationTurnsRequests = await count(store, '(SELECT DISTINCT TraceId FROM conversation_turns)');
    const sizes = await storage(store);

    // Query window: the last 7 days of data (28 for the day-level cost questions).
    const to = new Date(toMs);
    const from7 = new Date(toMs - 7 * 86_400_000);
    const from28 = new Date(toMs - (DAYS - 1) * 86_400_000);
    const wide = new Set(['cost_per_model_per_day', 'top_features_by_cost']);
    const queries: NamedQuery[] = listNamedQueries(args['queries-dir']).filter((q) => !args.only || args.only.split(',').includes(q.name));
    const baselines = new Map(args['baseline-queries-dir'] ? listNamedQueries(args['baseline-queries-dir']).map((q) => [q.name, q]) : []);
    const results: Record<string, unknown>[] = [];
    for (const q of queries) {
      const params = resolveParams(q, { from: wide.has(q.name) ? from28 : from7, to });
      const rollup = await time(store, q.sql, params, RUNS);
      const base = baselines.get(q.name);
      let baseline: Timing | null = null;
      if (base && base.sql !== q.sql) {
        baseline = await time(store, base.sql, resolveParams(base, { from: wide.has(q.name) ? from28 : from7, to }), RUNS);
        log(`${q.name.padEnd(38)} shipped ${rollup.medianMs.toFixed(1).padStart(8)} ms (${rollup.rows} rows)   baseline ${baseline.medianMs.toFixed(1).padStart(8)} ms (${baseline.rows} rows)   ${(baseline.medianMs / rollup.medianMs).toFixed(1)}×   load ${loadavg()[0]!.toFixed(1)}`);
      }
      const twinSql = args['no-twins'] ? undefined : TWINS[q.name];
      let twin: Timing | null = null;
      if (twinSql) {
        const twinParams: Record<string, unknown> = { ...params };
        for (const m of twinSql.matchAll(/\{([a-z_]+):[^}]+\}/g)) if (!(m[1] in twinParams)) twinParams[m[1]] = q.parameters.find((p) => p.name === m[1])?.default;
        twin = await time(store, twinSql, twinParams, TWIN_RUNS);
      }
      const speedup = twin ? twin.medianMs / rollup.medianMs : null;
      results.push({ query: q.name, rollupMedianMs: round(rollup.medianMs), rollupRuns: rollup.runs, rows: rollup.rows, loadAverage: round(loadavg()[0]!),
        ...(baseline ? { baselineMedianMs: round(baseline.medianMs), baselineRuns: baseline.runs, baselineRows: baseline.rows } : {}), twinMedianMs: twin ? round(twin.medianMs) : null, twinRuns: twin?.runs ?? null, twinRows: twin?.rows ?? null, speedup: speedup ? round(speedup) : null });
      log(`${q.name.padEnd(38)} rollup ${rollup.medianMs.toFixed(1).padStart(8)} ms   map-scan ${twin ? twin.medianMs.toFixed(0).padStart(7) : '      -'} ms   ${speedup ? `${speedup.toFixed(0)}×` : ''}`);
    }

    const perSpan = (t: string) => (sizes[t] ? sizes[t].compressedBytes / Math.max(1, genaiSpans) : 0);
    const rollupTables = ['usage_cost_hourly', 'usage_cost_daily', 'latency_hourly', 'request_rollup', 'retrieval_quality_hourly', 'query_patterns_daily', 'errors_hourly', 'evaluations_daily', 'prediction_outcomes_daily', 'response_lookup', 'feedback', 'evaluations', 'user_usage_daily'];
    const rollupBytes = rollupTables.reduce((s, t) => s + (sizes[t]?.compressedBytes ?? 0), 0);
    const medians = results.map((r) => r.rollupMedianMs as number).sort((a, b) => a - b);
    const speedups = results.map((r) => r.speedup).filter((x): x is number => x !== null).sort((a, b) => a - b);
    const summary = {
      genaiSpans,
      bytesPerSpan: {
        genai_spans: round(perSpan('genai_spans')),
        otel_traces: round(perSpan('otel_traces')),
        rollups: round(rollupBytes / Math.max(1, genaiSpans)),
      },
      queries: results.length,
      rollupMedianMsMax: medians[medians.length - 1],
      rollupQueriesUnder100ms: medians.filter((m) => m <= 100).length,
      speedupMin: speedups[0] ?? null,
      speedupMedian: speedups[Math.floor(speedups.length / 2)] ?? null,
      queriesAtLeast20x: speedups.filter((s) => s >= 20).length,
    };
    log('summary', JSON.stringify(summary));
    const report = {
      benchmark: 'bench:queries',
      when: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      args: { spans: TARGET, baseSpans: BASE, days: DAYS, runs: RUNS, twinRuns: TWIN_RUNS, seed: args.seed },
      load,
      totalSeconds: round((performance.now() - started) / 1000),
      storage: sizes,
      summary,
      results,
    };
    mkdirSync(join(args.out!, '..'), { recursive: true });
    writeFileSync(args.out!, JSON.stringify(report, null, 2) + '\n');
    log(`wrote ${args.out}`);
  } finally {
    await store.close();
    rmSync(priceFile, { force: true });
    if (!args['data-dir'] && !args.keep) rmSync(dataDir, { recursive: true, force: true });
    else if (!existsSync(dataDir)) log(`data dir ${dataDir} is gone`);
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

await main();
