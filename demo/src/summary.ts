// The end-of-run summary, read back from ClickHouse through the processor's SQL endpoint: nothing here comes
// from the app's own counters. The run is the window [from, to) of request start times (the `requests` view,
// one row per request from the per-request rollup) and the app's service.name; cost per model comes from
// the GenAI spans, feedback from `feedback_latest` (latest version of each feedback id), and the per-feature
// table is clickhouse/queries/request_stage_breakdown.sql run as is.
// The other figures have their own SQL because their scope is the run, which no named query takes: one
// service and the exact [from, to) of its requests (the named queries are tenant-wide, and the daily
// rollups they read would add other runs of the same day), exact quantiles over a few dozen requests
// (the rollups keep DDSketch states), and feedback about the run's requests whenever it was given (the
// named queries count feedback given in the range). docs/grafana.md lists each figure and its named query.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quote, type SqlClient } from './sql.js';

export interface SummaryScope {
  tenant: string;
  service: string;
  /** UTC, 'YYYY-MM-DD hh:mm:ss'; requests that started in [from, to). */
  from: string;
  to: string;
}

export interface ModelCost {
  model: string;
  provider: string;
  calls: number;
  errors: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costUsd: number;
}

export interface StageLatency {
  stage: string;
  count: number;
  p50Ms: number;
  p95Ms: number;
}

export interface VariantRow {
  variant: string;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  costPerRequestUsd: number;
  avgRelevance: number | null;
  invalidCitations: number;
  thumbsUp: number;
  thumbsDown: number;
  thumbsUpRate: number | null;
}

export interface Summary {
  scope: SummaryScope;
  requests: {
    stored: number;
    failed: number;
    /** Requests with at least one failed LLM call that still got an answer (fallback). */
    recovered: number;
    cacheHits: number;
    users: number;
    sessions: number;
    llmCalls: number;
    failedLlmCalls: number;
    rateLimitedCalls: number;
  };
  cost: { totalUsd: number; perRequestUsd: number; byModel: ModelCost[] };
  latency: StageLatency[];
  retrieval: { retrievals: number; documents: number; avgRelevance: number | null; avgTopRelevance: number | null };
  citations: {
    answersChecked: number;
    answersWithCitations: number;
    citations: number;
    invalidCitations: number;
    answersWithInvalid: number;
    documentsRetrieved: number;
    documentsCited: number;
    /** Documents cited / documents retrieved. */
    usageRate: number | null;
  };
  feedback: {
    feedback: number;
    requestsWithFeedback: number;
    thumbsUp: number;
    thumbsDown: number;
    thumbsUpRate: number | null;
    ratings: number;
    avgRating: number | null;
    comments: number;
  };
  evaluations: { name: string; count: number; avgValue: number | null }[];
  experiment: { name: string; variants: VariantRow[] } | null;
  /** Rows of clickhouse/queries/request_stage_breakdown.sql for the window (all services). */
  features: Record<string, unknown>[];
  /** Conversations and implicit feedback of the run (conversation_turn_signals, migration 0026). */
  conversations: ConversationSummary;
  /** Answer confidence (clickhouse/queries/confidence_distribution.sql and confidence_by_rating.sql). */
  confidence: ConfidenceSummary;
}

export interface ConfidenceSummary {
  answers: number;
  /** Share of those answers below the named queries' default threshold. */
  lowShare: number | null;
  threshold: number;
  /** Average confidence of the answers that got a thumbs up / down. */
  byThumbs: { thumbs: string; feedback: number; avgConfidence: number | null }[];
}

export interface ConversationSummary {
  conversations: number;
  sessions: number;
  users: number;
  answers: number;
  multiTurn: number;
  repeats: number;
  reformulations: number;
  followUps: number;
  abandoned: number;
  abandonedAfterFailure: number;
  open: number;
  avgEngagementS: number | null;
  /** The session timeout the run was read with (minutes): a demo run lasts minutes, not the 30-minute default. */
  sessionTimeoutMin: number;
}

/** A demo run lasts a few minutes: with the 30-minute default every last answer would still be open. */
export const DEMO_SESSION_TIMEOUT_MIN = 1;

/** The `-- defaults:` of a named query. */
export function namedQueryDefaults(root: string, name: string): Record<string, string> {
  const text = readFileSync(join(root, 'clickhouse/queries', `${name}.sql`), 'utf8');
  const line = /^--\s*defaults:\s*(.*)$/m.exec(text)?.[1] ?? '';
  return Object.fromEntries(line.split(',').map((kv) => kv.split('=').map((x) => x.trim())).filter((kv) => kv.length === 2));
}

/** The default thresholds of the implicit-feedback signals (the processor's defaults are defined there too). */
export function signalThresholdDefaults(root: string): Record<string, number> {
  return JSON.parse(readFileSync(join(root, 'clickhouse/signal-thresholds.json'), 'utf8')) as Record<string, number>;
}

/**
 * The run's answers with their implicit signals: conversation_turn_signals read directly (not the stored table the
 * processor's job fills) with the default thresholds except the session timeout, which a minutes-long run shortens.
 */
export function conversationSignalsSql(s: SummaryScope, root: string): string {
  const d = signalThresholdDefaults(root);
  const n = (k: string) => String(Number(d[k]));
  return `SELECT
    uniqExact(ConversationKey) AS conversations,
    uniqExactIf(SessionId, SessionId != '') AS sessions,
    uniqExactIf(UserId, UserId != '') AS users,
    count() AS answers,
    sum(Repeat) AS repeats,
    sum(Reformulation) AS reformulations,
    sum(FollowUp) AS follow_ups,
    sum(Abandoned) AS abandoned,
    sum(AbandonedAfterFailure) AS abandoned_after_failure,
    sum(Open) AS open,
    avg(EngagementMs) / 1000 AS avg_engagement_s,
    (SELECT count() FROM (SELECT ConversationKey FROM conversation_requests(tenant = ${quote(s.tenant)}, from = toDateTime(${quote(s.from)}, 'UTC'), to = toDateTime(${quote(s.to)}, 'UTC'))
        WHERE ServiceName = ${quote(s.service)} GROUP BY ConversationKey HAVING count() > 1)) AS multi_turn
FROM conversation_turn_signals(tenant = ${quote(s.tenant)}, from = toDateTime(${quote(s.from)}, 'UTC'), to = toDateTime(${quote(s.to)}, 'UTC'),
    repeat_window_min = ${n('repeatWindowMin')}, reformulation_window_min = ${n('reformulationWindowMin')},
    reformulation_max_distance = ${n('reformulationMaxDistance')}, session_timeout_min = ${DEMO_SESSION_TIMEOUT_MIN})
WHERE ServiceName = ${quote(s.service)}`;
}

export const STAGES = ['request', 'first_token', 'embedding', 'retrieval', 'rerank', 'context_assembly', 'generation', 'post_processing'] as const;
const STAGE_COLUMNS = ['TotalMs', 'TimeToFirstTokenMs', 'EmbeddingMs', 'RetrievalMs', 'RerankMs', 'ContextMs', 'GenerationMs', 'PostProcessingMs'];

/** 'YYYY-MM-DD hh:mm:ss' in UTC, rounded down (`up`: up) to the second. */
export function sqlTime(ms: number, up = false): string {
  const t = up ? Math.ceil(ms / 1000) * 1000 : Math.floor(ms / 1000) * 1000;
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

const num = (v: unknown): number => (v === null || v === undefined || v === '' ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined || v === '' || Number.isNaN(Number(v)) ? null : Number(v));

/** The run's requests: one row per request of the app's service that started in the window. */
function requestsOf(s: SummaryScope): string {
  return `requests(tenant = ${quote(s.tenant)}, from = toDateTime(${quote(s.from)}, 'UTC'), to = toDateTime(${quote(s.to)}, 'UTC'))`;
}

export function summaryQueries(s: SummaryScope) {
  const requests = `SELECT * FROM ${requestsOf(s)} WHERE ServiceName = ${quote(s.service)}`;
  const spans = `TenantId = ${quote(s.tenant)} AND ServiceName = ${quote(s.service)}
      AND Timestamp >= toDateTime64(${quote(s.from)}, 9, 'UTC') AND Timestamp < toDateTime64(${quote(s.to)}, 9, 'UTC')`;
  const feedback = `SELECT * FROM feedback_latest WHERE TenantId = ${quote(s.tenant)} AND TraceId IN (SELECT TraceId FROM (${requests}))`;
  return {
    requests: `SELECT
    count() AS stored,
    countIf(RootError = 1) AS failed,
    countIf(RootError = 0 AND Errors > 0) AS recovered,
    countIf(ResponseCacheHit = 1) AS cache_hits,
    uniqExact(UserId) AS users,
    uniqExact(SessionId) AS sessions,
    sum(CostUSD) AS cost_usd,
    avgIf(TopRelevance, Retrievals > 0) AS avg_top_relevance,
    countIf(CitationSpans > 0) AS answers_checked,
    countIf(Citations > 0) AS answers_with_citations,
    sum(Citations) AS citations,
    sum(InvalidCitations) AS invalid_citations,
    countIf(InvalidCitations > 0) AS answers_with_invalid,
    sum(DocumentsRetrieved) AS documents_retrieved,
    sum(DocumentsCited) AS documents_cited
FROM (${requests})`,
    latency: `SELECT stage, count() AS n, quantileExact(0.5)(ms) AS p50_ms, quantileExact(0.95)(ms) AS p95_ms
FROM (SELECT ${STAGE_COLUMNS.join(', ')} FROM (${requests}))
ARRAY JOIN [${STAGES.map(quote).join(', ')}] AS stage, [${STAGE_COLUMNS.join(', ')}] AS ms
WHERE ms IS NOT NULL
GROUP BY stage`,
    llmCalls: `SELECT
    count() AS llm_calls,
    countIf(StatusCode = 'Error' OR ErrorType != '') AS failed_llm_calls,
    countIf(match(ErrorType, '(?i)^429$|rate.?limit|too.?many.?requests|throttl|resource.?exhausted')) AS rate_limited_calls
FROM genai_spans
WHERE ${spans}
  AND UsageCounted = 1 AND Operation IN ('chat', 'text_completion', 'generate_content')`,
    costByModel: `SELECT
    RequestModel AS model,
    any(Provider) AS provider,
    count() AS calls,
    countIf(StatusCode = 'Error' OR ErrorType != '') AS errors,
    sum(InputTokens) AS input_tokens,
    sum(CacheReadTokens) AS cache_read_tokens,
    sum(CacheWriteTokens) AS cache_write_tokens,
    sum(OutputTokens) AS output_tokens,
    sum(ReasoningTokens) AS reasoning_tokens,
    sum(CostUSD) AS cost_usd
FROM genai_spans
WHERE ${spans}
  AND UsageCounted = 1 AND Operation IN ('chat', 'text_completion', 'generate_content', 'embeddings')
GROUP BY model
ORDER BY cost_usd DESC, model`,
    relevance: `SELECT count() AS documents, uniqExact(SpanId) AS retrievals, avg(score) AS avg_relevance
FROM genai_spans
ARRAY JOIN DocumentScores AS score
WHERE ${spans} AND Operation = 'retrieval' AND score IS NOT NULL`,
    feedback: `SELECT
    count() AS feedback,
    uniqExact(TraceId) AS requests_with_feedback,
    countIf(Thumbs = 'up') AS thumbs_up,
    countIf(Thumbs = 'down') AS thumbs_down,
    countIf(Kind = 'rating') AS ratings,
    avgIf(Rating, Kind = 'rating') AS avg_rating,
    countIf(Comment != '') AS comments
FROM (${feedback})`,
    evaluations: `SELECT Name AS name, count() AS n, avg(Value) AS avg_value
FROM evaluations
WHERE TenantId = ${quote(s.tenant)} AND TraceId IN (SELECT TraceId FROM (${requests}))
GROUP BY name ORDER BY name`,
    variants: `SELECT
    r.Experiment AS experiment,
    r.Variant AS variant,
    count() AS requests,
    quantileExact(0.5)(r.TotalMs) AS p50_ms,
    quantileExact(0.95)(r.TotalMs) AS p95_ms,
    sum(r.CostUSD) / count() AS cost_per_request_usd,
    avgIf(r.AvgRelevance, r.AvgRelevance IS NOT NULL) AS avg_relevance,
    sum(r.InvalidCitations) AS invalid_citations,
    sum(f.up) AS thumbs_up,
    sum(f.down) AS thumbs_down
FROM (${requests}) AS r
LEFT JOIN (SELECT TraceId, countIf(Thumbs = 'up') AS up, countIf(Thumbs = 'down') AS down FROM (${feedback}) GROUP BY TraceId) AS f
    ON f.TraceId = r.TraceId
WHERE r.Experiment != ''
GROUP BY experiment, variant
ORDER BY experiment, variant
SETTINGS join_use_nulls = 0`,
  };
}

/**
 * A file of clickhouse/queries with its `{name:Type}` parameters inlined as literals (the SQL endpoint takes
 * no query parameters): Strings quoted, DateTimes as toDateTime('...', 'UTC'), numbers as is.
 */
export function renderNamedQuery(root: string, name: string, params: Record<string, string | number>): string {
  const text = readFileSync(join(root, 'clickhouse/queries', `${name}.sql`), 'utf8');
  const sql = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .trim()
    .replace(/;\s*$/, '');
  return sql.replace(/\{([A-Za-z_][A-Za-z0-9_]*):([^}]+)\}/g, (_, pname: string, type: string) => {
    const v = params[pname];
    if (v === undefined) throw new Error(`${name}.sql: no value for parameter ${pname}`);
    if (/^DateTime/.test(type.trim())) return `toDateTime(${quote(String(v))}, 'UTC')`;
    if (/^(U?Int|Float|Decimal)/.test(type.trim())) return String(Number(v));
    return quote(String(v));
  });
}

export async function collectSummary(sql: SqlClient, scope: SummaryScope, root: string, experiment: string): Promise<Summary> {
  const q = summaryQueries(scope);
  type Row = Record<string, unknown>;
  const [[r = {} as Row], [llm = {} as Row], latency, models, [rel = {} as Row], [fb = {} as Row], evaluations, variants, features, [cv = {} as Row]] = await Promise.all([
    sql<Row>(q.requests),
    sql<Row>(q.llmCalls),
    sql<Row>(q.latency),
    sql<Row>(q.costByModel),
    sql<Row>(q.relevance),
    sql<Row>(q.feedback),
    sql<Row>(q.evaluations),
    sql<Row>(q.variants),
    sql<Row>(renderNamedQuery(root, 'request_stage_breakdown', { tenant: scope.tenant, from: scope.from, to: scope.to })),
    sql<Row>(conversationSignalsSql(scope, root)),
  ]);
  const threshold = Number(namedQueryDefaults(root, 'confidence_by_rating').threshold ?? 0.6);
  const range = { tenant: scope.tenant, from: scope.from, to: scope.to };
  const [distribution, byRating] = await Promise.all([
    sql<Row>(renderNamedQuery(root, 'confidence_distribution', range)),
    sql<Row>(renderNamedQuery(root, 'confidence_by_rating', { ...range, threshold })),
  ]);
  const confidenceAnswers = distribution.reduce((n, b) => n + num(b.requests), 0);
  const lowAnswers = distribution.filter((b) => num(b.bucket_to) <= threshold + 1e-9).reduce((n, b) => n + num(b.requests), 0);
  const stored = num(r.stored);
  const totalUsd = num(r.cost_usd);
  const thumbsUp = num(fb.thumbs_up);
  const thumbsDown = num(fb.thumbs_down);
  const byStage = new Map(latency.map((l) => [String(l.stage), l]));
  const documentsRetrieved = num(r.documents_retrieved);
  return {
    scope,
    requests: {
      stored,
      failed: num(r.failed),
      recovered: num(r.recovered),
      cacheHits: num(r.cache_hits),
      users: num(r.users),
      sessions: num(r.sessions),
      llmCalls: num(llm.llm_calls),
      failedLlmCalls: num(llm.failed_llm_calls),
      rateLimitedCalls: num(llm.rate_limited_calls),
    },
    cost: {
      totalUsd,
      perRequestUsd: stored > 0 ? totalUsd / stored : 0,
      byModel: models.map((m) => ({
        model: String(m.model),
        provider: String(m.provider),
        calls: num(m.calls),
        errors: num(m.errors),
        inputTokens: num(m.input_tokens),
        cacheReadTokens: num(m.cache_read_tokens),
        cacheWriteTokens: num(m.cache_write_tokens),
        outputTokens: num(m.output_tokens),
        reasoningTokens: num(m.reasoning_tokens),
        costUsd: num(m.cost_usd),
      })),
    },
    latency: STAGES.filter((s) => byStage.has(s)).map((stage) => {
      const l = byStage.get(stage)!;
      return { stage, count: num(l.n), p50Ms: num(l.p50_ms), p95Ms: num(l.p95_ms) };
    }),
    retrieval: {
      retrievals: num(rel.retrievals),
      documents: num(rel.documents),
      avgRelevance: num(rel.documents) > 0 ? numOrNull(rel.avg_relevance) : null,
      avgTopRelevance: numOrNull(r.avg_top_relevance),
    },
    citations: {
      answersChecked: num(r.answers_checked),
      answersWithCitations: num(r.answers_with_citations),
      citations: num(r.citations),
      invalidCitations: num(r.invalid_citations),
      answersWithInvalid: num(r.answers_with_invalid),
      documentsRetrieved,
      documentsCited: num(r.documents_cited),
      usageRate: documentsRetrieved > 0 ? num(r.documents_cited) / documentsRetrieved : null,
    },
    feedback: {
      feedback: num(fb.feedback),
      requestsWithFeedback: num(fb.requests_with_feedback),
      thumbsUp,
      thumbsDown,
      thumbsUpRate: thumbsUp + thumbsDown > 0 ? thumbsUp / (thumbsUp + thumbsDown) : null,
      ratings: num(fb.ratings),
      avgRating: num(fb.ratings) > 0 ? numOrNull(fb.avg_rating) : null,
      comments: num(fb.comments),
    },
    evaluations: evaluations.map((e) => ({ name: String(e.name), count: num(e.n), avgValue: numOrNull(e.avg_value) })),
    experiment: variants.some((v) => v.experiment === experiment)
      ? {
          name: experiment,
          variants: variants
            .filter((v) => v.experiment === experiment)
            .map((v) => {
              const up = num(v.thumbs_up);
              const down = num(v.thumbs_down);
              return {
                variant: String(v.variant),
                requests: num(v.requests),
                p50Ms: num(v.p50_ms),
                p95Ms: num(v.p95_ms),
                costPerRequestUsd: num(v.cost_per_request_usd),
                avgRelevance: numOrNull(v.avg_relevance),
                invalidCitations: num(v.invalid_citations),
                thumbsUp: up,
                thumbsDown: down,
                thumbsUpRate: up + down > 0 ? up / (up + down) : null,
              };
            }),
        }
      : null,
    features,
    conversations: {
      conversations: num(cv.conversations),
      sessions: num(cv.sessions),
      users: num(cv.users),
      answers: num(cv.answers),
      multiTurn: num(cv.multi_turn),
      repeats: num(cv.repeats),
      reformulations: num(cv.reformulations),
      followUps: num(cv.follow_ups),
      abandoned: num(cv.abandoned),
      abandonedAfterFailure: num(cv.abandoned_after_failure),
      open: num(cv.open),
      avgEngagementS: numOrNull(cv.avg_engagement_s),
      sessionTimeoutMin: DEMO_SESSION_TIMEOUT_MIN,
    },
    confidence: {
      answers: confidenceAnswers,
      lowShare: confidenceAnswers > 0 ? lowAnswers / confidenceAnswers : null,
      threshold,
      byThumbs: byRating
        .filter((r) => r.kind === 'thumbs')
        .map((r) => ({ thumbs: String(r.value), feedback: num(r.feedback), avgConfidence: numOrNull(r.avg_confidence) })),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Printing

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number | null) => (n === null ? '—' : `${(n * 100).toFixed(0)}%`);
const ms = (n: number) => (Math.abs(n) < 10 ? n.toFixed(1) : int(n));
const plural = (n: number, one: string, many = `${one}s`) => `${int(n)} ${n === 1 ? one : many}`;
const dec = (n: number | null, digits = 2) => (n === null ? '—' : n.toFixed(digits));

export function usd(n: number): string {
  if (n === 0) return '$0';
  if (Math.abs(n) >= 1) return `$${n.toFixed(2)}`;
  // Four significant digits for small amounts.
  const digits = Math.min(8, Math.max(2, 3 - Math.floor(Math.log10(Math.abs(n)))));
  return `$${n.toFixed(digits)}`;
}

function table(header: string[], rows: string[][], indent = '  ', rightAligned: (i: number) => boolean = (i) => i > 0): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (rightAligned(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const STAGE_LABELS: Record<string, string> = {
  request: 'request (end to end)',
  first_token: 'time to first token',
  embedding: 'embedding',
  retrieval: 'retrieval',
  rerank: 'rerank',
  context_assembly: 'context assembly',
  generation: 'generation',
  post_processing: 'post-processing',
};

export interface PrintContext {
  /** What the app itself counted (to show that what is stored matches what was sent). */
  sent?: { requests: number; feedback: number };
  url: string;
  defaultUrl: boolean;
}

export function formatSummary(s: Summary, c: PrintContext): string {
  const out: string[] = [];
  const p = (line = '') => out.push(line);
  const rq = s.requests;
  p(`Summary read back from ClickHouse (${c.url}/sql): service ${s.scope.service}, requests started ${s.scope.from} – ${s.scope.to.slice(11)} UTC`);
  p();
  const sent = c.sent ? ` (the app sent ${c.sent.requests})` : '';
  if (rq.stored === 0) {
    p(`No requests of this run are stored${sent}.`);
    return out.join('\n');
  }
  p(`Requests     ${int(rq.stored)} stored${sent}: ${int(rq.stored - rq.failed)} answered, ${int(rq.failed)} failed, ${int(rq.cacheHits)} from the response cache`);
  p(`             ${int(rq.llmCalls)} LLM calls, ${int(rq.failedLlmCalls)} failed (${int(rq.rateLimitedCalls)} rate-limited); ${plural(rq.recovered, 'request')} recovered by the fallback model`);
  p(`             ${int(rq.users)} users in ${int(rq.sessions)} sessions`);
  p();
  p(`Cost         ${usd(s.cost.totalUsd)} in total, ${usd(s.cost.perRequestUsd)} per request`);
  p(
    table(
      ['model', 'calls', 'errors', 'input tok', 'cached', 'cache write', 'output tok', 'reasoning', 'cost'],
      s.cost.byModel.map((m) => [
        m.model,
        int(m.calls),
        int(m.errors),
        int(m.inputTokens),
        int(m.cacheReadTokens),
        int(m.cacheWriteTokens),
        int(m.outputTokens),
        int(m.reasoningTokens),
        usd(m.costUsd),
      ]),
      '             ',
    ),
  );
  p();
  p('Latency      per request and stage (wall clock; stages only for the requests that ran them)');
  p(table(['stage', 'requests', 'p50 ms', 'p95 ms'], s.latency.map((l) => [STAGE_LABELS[l.stage] ?? l.stage, int(l.count), ms(l.p50Ms), ms(l.p95Ms)]), '             '));
  p();
  const r = s.retrieval;
  p(`Retrieval    average relevance ${dec(r.avgRelevance)} over ${int(r.documents)} retrieved documents (${int(r.retrievals)} retrievals); best match ${dec(r.avgTopRelevance)} on average`);
  const ct = s.citations;
  p(
    `Citations    ${int(ct.answersWithCitations)} of ${int(ct.answersChecked)} answers cite sources (${plural(ct.citations, 'citation')}); ${pct(ct.usageRate)} of retrieved documents were cited`,
  );
  p(`             ${plural(ct.invalidCitations, 'invalid citation')} (a source number that does not exist) in ${plural(ct.answersWithInvalid, 'answer')}`);
  const f = s.feedback;
  p(
    `Feedback     ${pct(f.thumbsUpRate)} thumbs up (${int(f.thumbsUp)} up, ${int(f.thumbsDown)} down); ${int(f.ratings)} ratings, average ${dec(f.avgRating, 1)} / 5; ` +
      `feedback on ${int(f.requestsWithFeedback)} of ${int(rq.stored)} requests, ${plural(f.comments, 'comment')}`,
  );
  for (const e of s.evaluations) p(`Evaluations  ${e.name}: ${plural(e.count, 'answer')} checked, mean ${dec(e.avgValue)}`);
  const cv = s.conversations;
  if (cv.answers > 0) {
    p(`Conversations ${int(cv.conversations)} (${int(cv.multiTurn)} with several turns) in ${int(cv.sessions)} sessions of ${plural(cv.users, 'user')}; ${plural(cv.answers, 'answer')}`);
    p(
      `Implicit     what users did after an answer: ${int(cv.followUps)} follow-ups, ${int(cv.reformulations)} reformulations, ${int(cv.repeats)} repeats, ` +
        `${int(cv.abandoned)} abandoned (${int(cv.abandonedAfterFailure)} after an error or empty retrieval), ${int(cv.open)} still open`,
    );
    p(`             engagement (answer end to next question) ${cv.avgEngagementS === null ? '—' : `${cv.avgEngagementS.toFixed(1)} s`} on average; session timeout ${cv.sessionTimeoutMin} min for this short run (default 30)`);
  }
  const cf = s.confidence;
  if (cf.answers > 0) {
    const thumbs = cf.byThumbs.map((t) => `${t.thumbs} ${dec(t.avgConfidence)} (${plural(t.feedback, 'vote')})`).join(', ');
    p(`Confidence   ${plural(cf.answers, 'answer')} scored, ${pct(cf.lowShare)} below ${cf.threshold}; average confidence by thumbs: ${thumbs || '—'}`);
  }
  if (s.experiment) {
    p();
    p(`Experiment   ${s.experiment.name}`);
    p(
      table(
        ['variant', 'requests', 'p50 ms', 'p95 ms', 'cost/request', 'avg relevance', 'invalid citations', 'thumbs up'],
        s.experiment.variants.map((v) => [
          v.variant,
          int(v.requests),
          ms(v.p50Ms),
          ms(v.p95Ms),
          usd(v.costPerRequestUsd),
          dec(v.avgRelevance),
          int(v.invalidCitations),
          v.thumbsUpRate === null ? '—' : `${pct(v.thumbsUpRate)} of ${v.thumbsUp + v.thumbsDown}`,
        ]),
        '             ',
      ),
    );
  }
  if (s.features.length > 0) {
    p();
    p('Per feature  clickhouse/queries/request_stage_breakdown.sql over the same window');
    p(
      table(
        ['feature', 'requests', 'avg ms', 'p95 ms', 'avg retrieval ms', 'avg generation ms', 'avg cost', 'citation usage', 'cache hits', 'failure rate'],
        s.features.map((row) => [
          String(row.feature ?? ''),
          int(num(row.requests)),
          ms(num(row.avg_total_ms)),
          ms(num(row.p95_total_ms)),
          ms(num(row.avg_retrieval_ms)),
          ms(num(row.avg_generation_ms)),
          usd(num(row.avg_cost_usd)),
          pct(numOrNull(row.avg_citation_usage)),
          pct(numOrNull(row.cache_hit_rate)),
          pct(numOrNull(row.failure_rate)),
        ]),
        '             ',
      ),
    );
    p('             (failure rate: requests with any failed LLM call, including those the fallback model rescued)');
  }
  return out.join('\n');
}

/** Commands to explore further. */
export function formatNext(s: Summary, c: PrintContext): string {
  const env = c.defaultUrl ? '' : `RAGSCOPE_URL=${c.url} `;
  const day = s.scope.from.slice(0, 10);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const svc = quote(s.scope.service);
  const lines = [
    'Explore further',
    `  ${env}npm run sql -- "SELECT RequestModel AS model, count() AS calls, sum(InputTokens) AS input, sum(CacheReadTokens) AS cached, sum(OutputTokens) AS output, round(sum(CostUSD), 6) AS cost_usd FROM genai_spans WHERE UsageCounted AND Operation IN ('chat', 'embeddings') AND ServiceName = ${svc} GROUP BY model ORDER BY cost_usd DESC"`,
    `  ${env}npm run sql -- "SELECT Variant, count() AS requests, round(quantile(0.95)(TotalMs)) AS p95_ms, round(avg(CostUSD), 6) AS cost_usd, round(avg(AvgRelevance), 3) AS relevance FROM requests(tenant = ${quote(s.scope.tenant)}, from = '${day} 00:00:00', to = '${next} 00:00:00') WHERE Experiment = 'answer-model' GROUP BY Variant ORDER BY Variant"`,
    `  ${env}npm run sql -- "SELECT Timestamp, Kind, Thumbs, Rating, Comment, TraceId FROM feedback_latest WHERE ServiceName = ${svc} ORDER BY Timestamp DESC LIMIT 10"`,
    `  ${env}npm run sql -- "SELECT SpanName, round(DurationMs) AS ms, InputTokens, OutputTokens, CitedDocumentIds, InvalidCitationCount, ErrorType FROM genai_spans WHERE TraceId = (SELECT TraceId FROM genai_spans WHERE InvalidCitationCount > 0 ORDER BY Timestamp DESC LIMIT 1) ORDER BY Timestamp"`,
    '  More questions answered in SQL: clickhouse/queries/*.sql (docs/analytics.md). Schema: SHOW TABLES, DESCRIBE genai_spans.',
    '  Dashboards and alerts: cp deploy/env.example .env (set the passwords), docker compose up -d --build, open http://localhost:3000;',
    '  the compose `demo` service keeps traffic flowing into them (docs/demo.md).',
  ];
  return lines.join('\n');
}
