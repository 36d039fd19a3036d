// The conversation-signals job (migration 0027, docs/analytics.md "Conversations and implicit feedback"):
// materializes conversation_turn_signals — the one definition of the implicit-feedback signals — into the
// conversation_signals table the named queries read, so a query reads stored rows instead of sorting every
// conversation of its window.
//
// Canonical answer: the stored row of request R = R's row of conversation_turn_signals computed with
// from <= R's start and to = the job's `now` (injected clock) at its last pass, thresholds as configured.
//
// Which requests a pass recomputes: those whose signals can have changed since the last pass. A request's
// signals depend on itself, the next request of its conversation (within the session timeout of its end),
// feedback on it, and the data watermark (the latest request start, which decides when an open answer is
// abandoned). Changes are found in the STORE (conversation_turns.InsertedAt, feedback.InsertedAt: the store's
// clock at insertion), from the marks of the last pass kept in conversation_signals_state, so a restart or a
// second processor loses nothing. A pass recomputes every request that started in [from, now) with
//   from = min( earliest start of a changed request − session timeout − longest request,
//               earliest start of a request named by changed feedback,
//               earliest start of an answer the last pass left open,
//               the last pass's `now` − longest request )
// — the changed request's predecessor (whose next it may be) started at most timeout + its own duration before
// it; open answers are the only rows a rising watermark can change; requests that started after the last pass's
// `now` were not written yet. Recomputing a row is idempotent: each pass writes a new version of every row of
// its window and readers take the latest (ReplacingMergeTree FINAL in stored_turn_signals).
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../logger.js';
import type { Clock } from '../clock.js';
import type { SignalThresholds } from '../config.js';
import { formatParam } from '../query/named-queries.js';


export interface ConversationSignalsOptions {
  thresholds: SignalThresholds;
  /** Seconds between passes; 0 = no timer (refresh() only). */
  intervalSeconds: number;
  /** Longest request duration (minutes) the recompute window allows for (see the header). */
  longestRequestMin: number;
  /**
   * Overlap of the insertion marks (ms): a pass also treats rows inserted this long before the last pass's
   * mark as changed, because an insert's rows take the store's clock when the block is processed and may become
   * visible only after a pass that started later has read. Recomputing them again is harmless.
   */
  insertSlackMs?: number;
}

/** What one pass did per tenant (for tests, logs and the bench). */
export interface TenantPass {
  tenant: string;
  /** Start of the recompute window; null when nothing was to recompute. */
  from: Date | null;
  to: Date;
  rows: number;
  full: boolean;
}

const DEFAULT_INSERT_SLACK_MS = 60_000;

interface TenantState {
  turnsMark: string;
  feedbackMark: string;
  computedTo: string;
  openFrom: string;
  thresholds: string;
}

/** 'YYYY-MM-DD hh:mm:ss[.ffffff]' (UTC, as the store prints DateTime64) → ms. */
function parseStoreTime(s: string): number {
  const [whole, frac = ''] = s.split('.');
  return Date.parse(`${whole!.replace(' ', 'T')}Z`) + Number(`0.${frac || '0'}`) * 1000;
}

const floorSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

export class ConversationSignalsJob {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private running = false;
  private stopped = false;
  private readonly thresholdsKey: string;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly now: Clock,
    private readonly options: ConversationSignalsOptions,
    private readonly logger?: Logger,
  ) {
    const t = options.thresholds;
    this.thresholdsKey = JSON.stringify([t.repeatWindowMin, t.reformulationWindowMin, t.reformulationMaxDistance, t.sessionTimeoutMin]);
  }

  /** Starts the timer (no-op when the interval is 0). */
  start(): void {
    if (this.options.intervalSeconds <= 0 || this.timer || this.stopped) return;
    const tick = () => {
      if (this.stopped) return;
      // A pass still running (a long first pass, a slow store): skip this tick rather than queue another.
      const pass = this.running ? Promise.resolve() : this.refresh().then(
        () => undefined,
        (err: unknown) => this.logger?.error({ err: (err as Error).message }, 'conversation signals: pass failed; retrying next interval'),
      );
      void pass.finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalSeconds * 1000);
      });
    };
    this.timer = setTimeout(tick, this.options.intervalSeconds * 1000);
  }

  /** Runs one pass now (after the running one, never beside it) and resolves when it is stored. */
  refresh(): Promise<TenantPass[]> {
    if (this.stopped) return Promise.reject(new Error('conversation signals job is stopped'));
    const pass = this.chain.then(() => this.pass());
    this.chain = pass.catch(() => undefined);
    return pass;
  }

  /** Stops the timer and waits for a running pass. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  private async pass(): Promise<TenantPass[]> {
    this.running = true;
    try {
      const to = floorSecond(this.now());
      const [clock] = await this.rows<{ mark: string; version: string }>(
        `SELECT toString(t) AS mark, toString(toUnixTimestamp64Micro(t)) AS version FROM (SELECT now64(6, 'UTC') AS t)`,
      );
      const tenants = (await this.rows<{ TenantId: string }>(`SELECT DISTINCT TenantId FROM conversation_turns ORDER BY TenantId`)).map((r) => r.TenantId);
      const states = new Map(
        (
          await this.rows<TenantState & { TenantId: string }>(
            `SELECT TenantId, toString(argMax(TurnsMark, UpdatedAt)) AS turnsMark, toString(argMax(FeedbackMark, UpdatedAt)) AS feedbackMark,
                    toString(argMax(ComputedTo, UpdatedAt)) AS computedTo, toString(argMax(OpenFrom, UpdatedAt)) AS openFrom,
                    argMax(Thresholds, UpdatedAt) AS thresholds
             FROM conversation_signals_state GROUP BY TenantId`,
          )
        ).map((s) => [s.TenantId, s]),
      );
      const out: TenantPass[] = [];
      for (const tenant of tenants) {
        if (this.stopped && out.length > 0) break;
        out.push(await this.passTenant(tenant, states.get(tenant), to, clock!.mark, clock!.version));
      }
      return out;
    } finally {
      this.running = false;
    }
  }

  private async passTenant(tenant: string, state: TenantState | undefined, to: Date, mark: string, version: string): Promise<TenantPass> {
    const th = this.options.thresholds;
    const full = !state || state.thresholds !== this.thresholdsKey;
    const fromMs = full ? await this.earliestStart(tenant) : await this.windowStart(tenant, state);
    const from = fromMs === null ? null : floorSecond(fromMs);
    let rows = 0;
    let openFrom = to;
    if (from !== null && from < to) {
      const p = { tenant, from: formatParam(from), to: formatParam(to), version };
      // The one definition of the signals, stored as version `version` of each request's row.
      await this.command(
        `INSERT INTO conversation_signals (TenantId, Day, TraceId, StartTime, EndTime, ServiceName, UserId, SessionId, ConversationId,
             ConversationKey, Feature, Experiment, Variant, Model, QueryFingerprint, QuerySketch, QueryTopic, LlmCalls, TotalTokens, CostUSD,
             HasError, EmptyRetrieval, Feedback, ThumbsFeedback, ThumbsDown, NextRequestId, Repeat, Reformulation, FollowUp, Abandoned,
             AbandonedAfterFailure, Open, EngagementMs, Outcome, TextCaptured, Version, IsDeleted)
         SELECT {tenant:String}, toDate(StartTime, 'UTC'), TraceId, StartTime, EndTime, ServiceName, UserId, SessionId, ConversationId,
             ConversationKey, Feature, Experiment, Variant, Model, QueryFingerprint, QuerySketch, QueryTopic, LlmCalls, TotalTokens, CostUSD,
             HasError, EmptyRetrieval, Feedback, ThumbsFeedback, ThumbsDown, NextRequestId, Repeat, Reformulation, FollowUp, Abandoned,
             AbandonedAfterFailure, Open, EngagementMs, Outcome,
             -- A request's retrieval spans start at or after its start, so its captured texts are all at or after from.
             TraceId IN (SELECT TraceId FROM captured_query_texts WHERE TenantId = {tenant:String} AND Timestamp >= {from:DateTime}),
             {version:UInt64}, 0
         FROM conversation_turn_signals(tenant = {tenant:String}, from = {from:DateTime}, to = {to:DateTime},
             repeat_window_min = {repeat:UInt32}, reformulation_window_min = {reformulation:UInt32},
             reformulation_max_distance = {distance:UInt8}, session_timeout_min = {timeout:UInt32})`,
        { ...p, repeat: th.repeatWindowMin, reformulation: th.reformulationWindowMin, distance: th.reformulationMaxDistance, timeout: th.sessionTimeoutMin },
      );
      // A request whose start moved to another day has a new sorting key: retire the row under the old one.
      await this.command(
        `INSERT INTO conversation_signals
         SELECT o.* REPLACE ({version:UInt64} AS Version, 1 AS IsDeleted)
         FROM (SELECT * FROM conversation_signals FINAL WHERE TenantId = {tenant:String} AND Day >= toDate({from:DateTime}, 'UTC') AND Version < {version:UInt64}) AS o
         INNER JOIN (SELECT TraceId, Day FROM conversation_signals
                     WHERE TenantId = {tenant:String} AND Day >= toDate({from:DateTime}, 'UTC') AND Version = {version:UInt64} AND IsDeleted = 0) AS n
             ON n.TraceId = o.TraceId
         WHERE o.Day != n.Day`,
        p,
      );
      const [r] = await this.rows<{ rows: string; open: string; open_from: string }>(
        `SELECT count() AS rows, toString(minIf(StartTime, Open = 1)) AS open_from, countIf(Open = 1) AS open
         FROM conversation_signals
         WHERE TenantId = {tenant:String} AND Day >= toDate({from:DateTime}, 'UTC') AND Version = {version:UInt64} AND IsDeleted = 0`,
        p,
      );
      rows = Number(r?.rows ?? 0);
      // Every open answer is in this window (it was in the last one, or is new): the next pass starts no later.
      if (Number(r?.open ?? 0) > 0) openFrom = new Date(parseStoreTime(r!.open_from));
    }
    await this.command(
      `INSERT INTO conversation_signals_state (TenantId, TurnsMark, FeedbackMark, ComputedTo, OpenFrom, Thresholds, UpdatedAt)
       SELECT {tenant:String}, {mark:DateTime64(6)}, {mark:DateTime64(6)}, {to:DateTime64(6)}, {open_from:DateTime64(6)}, {thresholds:String}, now64(6, 'UTC')`,
      { tenant, mark, to: formatParam(to), open_from: formatParam(openFrom), thresholds: this.thresholdsKey },
    );
    const result = { tenant, from, to, rows, full };
    this.logger?.debug(result, 'conversation signals: pass stored');
    return result;
  }

  /** First pass, or thresholds changed: every request of the tenant. */
  private async earliestStart(tenant: string): Promise<number | null> {
    const [r] = await this.rows<{ start: string | null }>(
      `SELECT toString(minOrNull(StartTime)) AS start FROM conversation_turns WHERE TenantId = {tenant:String}`,
      { tenant },
    );
    return r?.start ? parseStoreTime(r.start) : null;
  }

  /** The recompute window's start (header): the changes since the marks, the open answers, the last `now`. */
  private async windowStart(tenant: string, state: TenantState): Promise<number> {
    const slack = this.options.insertSlackMs ?? DEFAULT_INSERT_SLACK_MS;
    const turnsMark = formatParam(new Date(parseStoreTime(state.turnsMark) - slack));
    const feedbackMark = formatParam(new Date(parseStoreTime(state.feedbackMark) - slack));
    // Starts of changed requests are their finalized starts (min over all partial rows), not the new rows' own.
    const [r] = await this.rows<{ turns_start: string | null; feedback_start: string | null }>(
      `WITH
           changed AS (SELECT TraceId, Day FROM conversation_turns WHERE TenantId = {tenant:String} AND InsertedAt >= {turns_mark:DateTime64(6)}),
           changed_feedback AS (
               SELECT TraceId, ResponseId FROM feedback
               WHERE TenantId = {tenant:String}
                 AND FeedbackId IN (SELECT FeedbackId FROM feedback WHERE TenantId = {tenant:String} AND InsertedAt >= {feedback_mark:DateTime64(3)})
           )
       SELECT
           (SELECT toString(minOrNull(StartTime)) FROM conversation_turns
            WHERE TenantId = {tenant:String} AND Day >= (SELECT minOrNull(Day) FROM changed) - 1 AND TraceId IN (SELECT TraceId FROM changed)) AS turns_start,
           (SELECT toString(minOrNull(StartTime)) FROM conversation_turns
            WHERE TenantId = {tenant:String}
              AND TraceId IN (
                  SELECT TraceId FROM changed_feedback WHERE TraceId != ''
                  UNION ALL
                  SELECT TraceId FROM response_lookup
                  WHERE TenantId = {tenant:String} AND ResponseId IN (SELECT ResponseId FROM changed_feedback WHERE ResponseId != ''))) AS feedback_start`,
      { tenant, turns_mark: turnsMark, feedback_mark: feedbackMark },
    );
    const minute = 60_000;
    const candidates = [
      parseStoreTime(state.openFrom),
      parseStoreTime(state.computedTo) - this.options.longestRequestMin * minute,
    ];
    if (r?.turns_start) candidates.push(parseStoreTime(r.turns_start) - (this.options.thresholds.sessionTimeoutMin + this.options.longestRequestMin) * minute);
    if (r?.feedback_start) candidates.push(parseStoreTime(r.feedback_start));
    return Math.min(...candidates);
  }

  private async rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const rs = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return rs.json<T>();
  }

  private async command(query: string, params: Record<string, unknown>): Promise<void> {
    // A fresh deduplication token: the embedded engine keeps per-query settings for the session (store/clickhouse.ts).
    // One thread: a pass is background work (a full pass over 10 M spans takes ~45 s) and must not take the
    // cores ingestion and users' queries run on.
    await this.client.command({
      query,
      query_params: params,
      clickhouse_settings: { insert_deduplication_token: randomUUID(), deduplicate_blocks_in_dependent_materialized_views: 1, max_threads: 1 },
    });
  }
}
