import { buildDashboard, UID } from '../dashboard.js';
import { normalizeSql } from '../clickhouse.js';
import { barChartPanel, tablePanel, timeSeriesPanel, traceLink } from '../panels.js';
import { TRACE_LINK_SQL } from '../sql.js';
import { NAMED_QUERY_FILTERS_NOTE, namedQuerySql } from '../named-queries.js';

const indent = (sql: string, n: number) => sql.replace(/\n/g, `\n${' '.repeat(n)}`);

/** The named query's rows, with the given (cast) columns: rollup columns become plain types the plugin reads. */
const fromNamed = (name: string, select: string, orderBy: string, params: Record<string, string | number> = {}) =>
  normalizeSql(`
    SELECT ${select}
    FROM (
      ${indent(namedQuerySql(name, params), 6)}
    )
    ORDER BY ${orderBy}
  `);

const SIGNALS_NOTE =
  ' Implicit signals (docs/analytics.md): repeat = same question again within 10 min; reformulation = a similar question (query sketch within 12 of 64 bits) within 5 min after the answer; abandoned = the last answer, followed by neither a question nor feedback within the 30 min session timeout.';

export function conversationsDashboard() {
  return buildDashboard({
    uid: UID.conversations,
    title: 'ragscope / Conversations & users',
    description:
      'Conversations and sessions (gen_ai.conversation.id, session.id, user.id): sessions and active users, turns, duration, cost per session and user, implicit feedback derived from what users did next, and clusters of similar questions (from the query sketch, no text needed).',
    sections: [
      {
        panels: [
          timeSeriesPanel({
            title: 'Sessions and active users per day',
            definition: { namedQuery: 'sessions_and_active_users_per_day' },
            description: 'Distinct sessions, conversations and active users per UTC day.' + NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed(
              'sessions_and_active_users_per_day',
              'toDateTime(day) AS time, toFloat64(sessions) AS sessions, toFloat64(conversations) AS conversations, toFloat64(active_users) AS "active users"',
              'time',
            ),
            unit: 'short',
            size: { w: 12, h: 8 },
          }),
          barChartPanel({
            title: 'Turns per conversation',
            definition: { namedQuery: 'turns_per_conversation' },
            description: 'How many conversations had 1, 2, 3, ... turns (questions) in the range.' + NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed('turns_per_conversation', 'toString(turns) AS turns, toFloat64(conversations) AS conversations', 'toUInt32(turns)'),
            unit: 'short',
            xField: 'turns',
            size: { w: 6, h: 8 },
          }),
          barChartPanel({
            title: 'Session duration',
            definition: { namedQuery: 'session_duration' },
            description: 'Sessions by duration, first request start to last request end.' + NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed('session_duration', 'bucket AS duration, toFloat64(sessions) AS sessions', 'bucket_order'),
            unit: 'short',
            xField: 'duration',
            size: { w: 6, h: 8 },
          }),
        ],
      },
      {
        panels: [
          tablePanel({
            title: 'Cost per session, per user',
            definition: { namedQuery: 'cost_per_session' },
            description: 'The users whose conversations cost the most, with sessions, conversations, requests, tokens, cost and cost per session.' + NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed(
              'cost_per_session',
              'toString(user_id) AS user_id, sessions, conversations, requests, total_tokens, toFloat64(cost_usd) AS cost_usd, toFloat64(cost_per_session_usd) AS cost_per_session_usd',
              'cost_usd DESC, user_id',
            ),
            columns: [
              { name: 'cost_usd', unit: 'currencyUSD', decimals: 4, display: 'gauge' },
              { name: 'cost_per_session_usd', unit: 'currencyUSD', decimals: 5 },
            ],
            size: { w: 12, h: 9 },
          }),
          tablePanel({
            title: 'Users with the most thumbs down or reformulations',
            definition: { namedQuery: 'users_most_thumbs_down_or_reformulations' },
            description: 'Per user: answers, thumbs down given on them, answers reformulated, repeated or abandoned; ranked by thumbs down + reformulations.' + SIGNALS_NOTE + NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed(
              'users_most_thumbs_down_or_reformulations',
              'toString(user_id) AS user_id, answers, thumbs_down, reformulations, repeats, abandoned, negative_signals',
              'negative_signals DESC, user_id',
            ),
            columns: [{ name: 'negative_signals', display: 'gauge' }],
            size: { w: 12, h: 9 },
          }),
        ],
      },
      {
        panels: [
          tablePanel({
            title: 'Recent conversations',
            definition: { namedQuery: 'recent_conversations' },
            description:
              'The conversations with the latest activity: user, turns, cost, feedback, implicit signals and how the last answer ended. Click last_trace_id to open the last request; request_trace_ids lists every request in order.' +
              SIGNALS_NOTE + NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed(
              'recent_conversations',
              `toString(service) AS service, toString(conversation) AS conversation, toString(user_id) AS user_id,
               CAST(first_time AS DateTime64(3, 'UTC')) AS first_time, CAST(last_time AS DateTime64(3, 'UTC')) AS last_time,
               duration_s, turns, requests, llm_calls, total_tokens, toFloat64(cost_usd) AS cost_usd, failed_requests, feedback, thumbs_down,
               repeats, reformulations, follow_ups, abandoned, last_outcome,
               trace_ids[length(trace_ids)] AS last_trace_id, arrayStringConcat(trace_ids, ' ') AS request_trace_ids`,
              'last_time DESC, service, conversation',
            ),
            columns: [
              { name: 'last_trace_id', links: [traceLink(TRACE_LINK_SQL)], width: 290 },
              { name: 'duration_s', unit: 's', decimals: 0 },
              { name: 'cost_usd', unit: 'currencyUSD', decimals: 4 },
            ],
            sortBy: { name: 'last_time', desc: true },
            size: { w: 24, h: 10 },
          }),
        ],
      },
      {
        panels: [
          tablePanel({
            title: 'Top question clusters',
            definition: { namedQuery: 'top_question_clusters' },
            description:
              'Groups of similar questions (query sketch: 64-bit SimHash of the words, within 12 bits of the group\'s most-asked question), by volume, with thumbs-down share, empty-retrieval rate and reformulation rate. Label: the captured query text when content capture is on, else the topic label (ragscope.query.topic), else the fingerprint.' +
              NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed(
              'top_question_clusters',
              'label, label_source, requests, questions, users, thumbs_down_share, empty_retrieval_rate, reformulation_rate, toString(cluster) AS cluster',
              'requests DESC, cluster',
            ),
            columns: [
              { name: 'requests', display: 'gauge' },
              { name: 'thumbs_down_share', unit: 'percentunit', decimals: 1 },
              { name: 'empty_retrieval_rate', unit: 'percentunit', decimals: 1 },
              { name: 'reformulation_rate', unit: 'percentunit', decimals: 1 },
              { name: 'label', width: 320 },
            ],
            size: { w: 24, h: 10 },
          }),
        ],
      },
      {
        panels: [
          tablePanel({
            title: 'Implicit feedback by day, feature, model and variant',
            definition: { namedQuery: 'implicit_feedback_daily' },
            description: 'Of the answers of each day: repeat, reformulation, follow-up and abandonment rates, abandonments after an error or empty retrieval, engagement time (answer end to next question) and the thumbs-down rate.' + SIGNALS_NOTE + NAMED_QUERY_FILTERS_NOTE,
            sql: fromNamed(
              'implicit_feedback_daily',
              `toString(day) AS day, toString(feature) AS feature, toString(model) AS model, toString(variant) AS variant, answers,
               repeat_rate, reformulation_rate, follow_up_rate, abandonment_rate, abandoned_after_failure, avg_engagement_s, thumbs_down_rate`,
              'day DESC, feature, model, variant',
            ),
            columns: [
              { name: 'repeat_rate', unit: 'percentunit', decimals: 1 },
              { name: 'reformulation_rate', unit: 'percentunit', decimals: 1 },
              { name: 'follow_up_rate', unit: 'percentunit', decimals: 1 },
              { name: 'abandonment_rate', unit: 'percentunit', decimals: 1 },
              { name: 'thumbs_down_rate', unit: 'percentunit', decimals: 1 },
              { name: 'avg_engagement_s', unit: 's', decimals: 1 },
            ],
            size: { w: 24, h: 10 },
          }),
        ],
      },
    ],
  });
}

/** Feedback & evaluations: implicit next to explicit feedback per experiment variant. */
export function implicitVersusExplicitPanels() {
  return [
    barChartPanel({
      title: 'Implicit vs explicit feedback by variant',
      definition: { namedQuery: 'implicit_feedback_by_variant' },
      description:
        'Per experiment variant, of its answers: the share the user reformulated or repeated (implicit, derived from what users did next) next to the thumbs-down rate of the thumbs feedback given on them (explicit). Both rise for a variant that answers worse.' +
        SIGNALS_NOTE + NAMED_QUERY_FILTERS_NOTE,
      sql: fromNamed(
        'implicit_feedback_by_variant',
        `concat(toString(experiment), ' / ', toString(variant)) AS variant, toFloat64(reformulation_rate) AS "reformulation rate",
         toFloat64(repeat_rate) AS "repeat rate", toFloat64(thumbs_down_rate) AS "thumbs-down rate"`,
        'variant',
      ),
      unit: 'percentunit',
      xField: 'variant',
      size: { w: 12, h: 8 },
    }),
    tablePanel({
      title: 'Implicit feedback by variant',
      definition: { namedQuery: 'implicit_feedback_by_variant' },
      description: 'Per experiment variant: answers, repeats, reformulations, follow-ups, abandonments (after a failure too), engagement time, thumbs feedback and thumbs-down rate.' + SIGNALS_NOTE + NAMED_QUERY_FILTERS_NOTE,
      sql: fromNamed(
        'implicit_feedback_by_variant',
        `toString(experiment) AS experiment, toString(variant) AS variant, answers, repeats, reformulations, follow_ups, abandoned, abandoned_after_failure,
         reformulation_rate, abandonment_rate, avg_engagement_s, thumbs_feedback, thumbs_down_rate`,
        'experiment, variant',
      ),
      columns: [
        { name: 'reformulation_rate', unit: 'percentunit', decimals: 1 },
        { name: 'abandonment_rate', unit: 'percentunit', decimals: 1 },
        { name: 'thumbs_down_rate', unit: 'percentunit', decimals: 1 },
        { name: 'avg_engagement_s', unit: 's', decimals: 1 },
      ],
      size: { w: 12, h: 8 },
    }),
  ];
}
