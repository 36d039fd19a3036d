/**
 * docs/grafana.md, generated with the dashboards so the catalogue (panels, sources, alert thresholds)
 * cannot drift from what is provisioned.
 */
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { ALERT_DEFAULTS, alertRules, RULE_GROUPS } from './alerts.js';
import { DATASOURCE } from './clickhouse.js';
import { queryPanels } from './dashboard.js';
import { T } from './sql.js';
import { SLA_OPTIONS_MS, DEFAULT_SLA_MS } from './variables.js';
import { BREAKDOWNS } from './dashboards/tokens-cost.js';
import { definitionNote } from './named-queries.js';

const SOURCES = [...Object.values(T), 'requests'];

function sourcesOf(p: Panel): string {
  const sql = ((p.targets ?? []) as unknown as Array<{ rawSql: string }>).map((t) => t.rawSql).join('\n');
  const found = SOURCES.filter((s) => new RegExp(`\\b(FROM|JOIN)\\s+${s}\\b`).test(sql));
  return found.map((s) => `\`${s}\``).join(', ');
}

const span = (seconds: number) => {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d} d` : '', h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ');
};

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A panel description ends with its definition note (named-queries.ts definitionNote): split them. */
const NOTE = / (Runs the named query .*|Reads the view .*|Own query: .*)$/s;
function splitDescription(description: string): { shows: string; definition: string } {
  const m = NOTE.exec(description);
  if (!m) throw new Error(`panel description without a definition note: ${description}`);
  return { shows: description.slice(0, m.index), definition: m[1]! };
}

function dashboardSection(d: Dashboard): string {
  const rows = queryPanels(d).map((p) => {
    const { shows, definition } = splitDescription(p.description ?? '');
    return `| ${cell(p.title ?? '')} | ${p.type} | ${sourcesOf(p)} | ${cell(shows)} | ${cell(definition)} |`;
  });
  return [
    `### ${d.title} (\`/d/${d.uid}\`)`,
    '',
    d.description ?? '',
    '',
    '| panel | type | reads | shows | definition |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** How many panels and rules run a named query, read a shared view, or have their own query. */
function definitionSummary(dashboards: Dashboard[]): string {
  const kinds = { named: 0, view: 0, own: 0 };
  for (const d of dashboards) {
    for (const p of queryPanels(d)) {
      const { definition } = splitDescription(p.description ?? '');
      if (definition.startsWith('Runs')) kinds.named++;
      else if (definition.startsWith('Reads')) kinds.view++;
      else kinds.own++;
    }
  }
  const rules = alertRules();
  const rulesOwn = rules.filter((r) => 'differs' in r.definition).length;
  return `Of ${kinds.named + kinds.view + kinds.own} panels, ${kinds.named} run a named query (clickhouse/queries/*.sql, SQL read
from the file when the dashboards are built, with \`{from}\` / \`{to}\` bound to \`$__fromTime()\` / \`$__toTime()\`
and \`{tenant}\` to the tenant variable), ${kinds.view} read the parameterized view that holds the shared definition
(\`low_rated_feedback\`, migration 0020), and ${kinds.own} run their own SQL; ${rulesOwn} of the ${rules.length} alert rules run their own
SQL. Each one's description (and the *definition* column below) says which, and for its own SQL what it computes
differently and why. The usual reasons: a panel is a series per Grafana interval, or a figure or breakdown
with the dashboard filters (service, environment, provider, model, experiment) and the change versus the
previous period, and the named queries take only a tenant and a range; alerts look at the last minutes, which
hourly rollups cannot resolve. Where a named query answers the same question for the whole tenant, the
description names it. \`tests/grafana/ground-truth.test.ts\` checks the figures users act on (cost, error rate,
p95 latency, thumbs-up share, relevance, low-rated requests) against answers computed from the generated data.`;
}

function alertSection(): string {
  const rows = alertRules().map((r) => {
    const op = { gt: '>', lt: '<', gte: '≥', lte: '≤', eq: '=', ne: '≠' }[r.threshold.type as 'gt'] ?? r.threshold.type;
    const reads = SOURCES.filter((s) => new RegExp(`\\b(FROM|JOIN)\\s+${s}\\b`).test(r.sql)).map((s) => `\`${s}\``).join(', ');
    const definition = definitionNote(r.definition).trim();
    return `| \`${r.uid}\` ${cell(r.title)} | value ${op} **${r.threshold.params.join(', ')}** | ${span(r.windowSeconds)} | ${r.for} | ${r.group} (every ${RULE_GROUPS[r.group].interval}) | ${r.instanceLabels.join(', ')} | ${r.severity} | ${reads} | ${cell(r.description)} | ${cell(definition)} |`;
  });
  return [
    '| rule | fires when | query window | for | group | one alert per | severity | reads | meaning | definition |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

const NUMBER_WORDS: Record<number, string> = { 7: 'Seven', 8: 'Eight', 9: 'Nine', 10: 'Ten' };

export function grafanaDoc(dashboards: Dashboard[]): string {
  const d = ALERT_DEFAULTS;
  return `<!-- Generated by \`npm run build:dashboards\` from grafana/src (docs.ts): edit the TypeScript, not this file. -->
# Grafana: dashboards and alerts

${NUMBER_WORDS[dashboards.length] ?? dashboards.length} dashboards and ${(NUMBER_WORDS[alertRules().length] ?? String(alertRules().length)).toLowerCase()} alert rules, built in TypeScript with \`@grafana/grafana-foundation-sdk\`
(\`grafana/src/\`) and provisioned from files. \`npm run build:dashboards\` regenerates everything:

| file | what |
|---|---|
| \`grafana/provisioning/datasources/ragscope.yaml\` | the ClickHouse data source, uid \`${DATASOURCE.uid}\`; host, port, protocol, user, password and database from the environment |
| \`grafana/provisioning/dashboards/ragscope.yaml\` | dashboards provider: \`grafana/dashboards/*.json\` into the folder **ragscope** |
| \`grafana/provisioning/alerting/rules.yaml\` | the alert rules (folder **ragscope**, groups \`ragscope-fast\` every 1m, \`ragscope-slow\` every 5m) |
| \`grafana/provisioning/alerting/contact-points.yaml\` | contact point \`ragscope-webhook\`: a webhook whose URL is \`$RAGSCOPE_ALERT_WEBHOOK_URL\` |
| \`grafana/provisioning/alerting/policies.yaml\` | notification policy: everything to \`ragscope-webhook\`, grouped by rule, tenant and service; critical alerts repeat hourly |
| \`grafana/dashboards/*.json\` | the dashboards |
| \`docs/grafana.md\` | this catalogue |

Edit the TypeScript and rebuild; a test fails when a committed file differs from what the code generates.

## How it is tested (no Grafana server runs in CI)

- \`processor/src/ui/macros.ts\` reproduces what Grafana and the ClickHouse plugin do to a query (the
  processor's built-in dashboard viewer runs it too, see docs/dashboards.md): the
  frontend's \`$__conditionalAll\` and template-variable interpolation (multi-value → \`'a','b'\`, All),
  then the backend macros (\`$__timeFilter\`, \`$__timeFilter_ms\`, \`$__dateFilter\`, \`$__dt\`,
  \`$__timeInterval\`, \`$__timeInterval_ms\`, \`$__interval_s\`, \`$__fromTime\`, \`$__toTime\`, ...) with the
  plugin's exact expansions and its quirks (arguments split on every comma; a macro written without
  parentheses swallows the next parenthesised group, which is why the SQL here writes \`$__fromTime()\`).
- \`tests/grafana/panels.test.ts\` loads a week of seeded synthetic traffic (\`tools/synthetic\`) through the
  processor's pipeline into an embedded ClickHouse, resolves every dashboard variable by running its
  query, expands every panel query as Grafana would and runs it: no errors, rows, the shape each panel
  type needs (time + numeric columns sorted by time for time series, exactly one row for stats, plain
  column types), trace links that open real traces, over 24 hours and 7 days, with All and with concrete
  selections, and with every "Break down by" value.
- \`tests/grafana/ground-truth.test.ts\` checks the figures users act on (cost, error rate, p95 request
  latency, thumbs-up / thumbs-down share, average relevance, low-rated requests) against answers computed
  independently from the generated data, with stated tolerances (1e-9 relative for sums and ratios, the
  DDSketch's 1 % for quantiles).
- The synthetic data ends at the tests' fixed instant (\`tests/helpers/clock.ts\`, \`RAGSCOPE_TEST_NOW\` to
  pick another), loaded through the pipeline with that instant as its clock into a store whose TTLs
  (10 000 days) keep it whatever the real date; a load that loses a span fails the test.
- \`tests/grafana/alerts.test.ts\` evaluates the provisioned rules as Grafana does (\`tests/grafana/alert-eval.ts\`:
  numeric table → one instance per row, reduce, threshold, Pending → Alerting after \`for\`): baseline
  traffic keeps every rule quiet at every evaluation of the swept windows, and each injected anomaly
  (latency spike, error burst, rate-limit storm, empty retrievals, cost surge, thumbs-down wave, unpriced
  model) makes its rule fire for the services involved, without setting off the others.

## Variables and filters

Every dashboard has **tenant** (single value; the processor's \`RAGSCOPE_TENANT\`, \`default\` unless set)
and **service, environment, provider, model, experiment** (multi-select with All). Filters are written
\`$__conditionalAll(col IN ($var), $var)\`: with All the clause becomes \`1=1\`, so the default view adds no
predicate and no subquery. Model is the response model when the provider reported one, else the
requested model (the analytics layer's rule), so a failed call shows under its requested model name.

Where a filter cannot apply, the panel says so in its description:

- request counts and request latency percentiles come from the request root span, which has no provider
  or model: provider and model filters do not apply there (the per-request panels such as *Slowest
  requests*, *Cost per request* and *Variant comparison* read the per-request rollup and honour them);
- retrieval quality has no provider or model (retrieval is not a model call);
- feedback carries no request dimensions of its own: it is filtered through the request it is about;
- prediction outcomes are kept per evaluation and model (no service).
- panels that run a named query as is (see *One definition per number* below) take only the tenant and
  the time range, like the query: the other filters do not apply there.

Extra variables: **Percentile** (p50, p90, p95, p99) of the per-stage and per-model panels and **SLA (ms)** on Latency (${SLA_OPTIONS_MS.join(', ')}; default ${DEFAULT_SLA_MS}: the boundaries of
\`latency_hourly\`'s histogram, so breach counts are exact) and **Break down by** on Tokens & cost
(${BREAKDOWNS.map((b) => b.text).join(', ')}).

Dashboards link to each other (the *ragscope* dropdown keeps the time range and the variables); stat
panels link to the dashboard with the details; trace ids open Grafana's trace view on \`otel_traces\`.

## Dashboards

### One definition per number

${definitionSummary(dashboards)}

${dashboards.map(dashboardSection).join('\n')}
### Demo summary figures (\`demo/src/summary.ts\`)

The end-of-run summary of \`npm run demo\` is scoped to the run: the demo app's service and the exact
\`[from, to)\` of its requests. Its per-feature table runs \`request_stage_breakdown\` as is; the other
figures have their own SQL because no named query takes a service or a sub-day window (the daily rollups
would add other runs of the same day), and over a few dozen requests exact quantiles are cheap:

| figure | nearest named query | differs in |
|---|---|---|
| requests, failures, cache hits, users, sessions, citations | \`request_stage_breakdown\` | the run's service only; counts, not averages over a sample |
| cost per model | \`cost_per_model_per_day\` | the run's spans (not whole UTC days), grouped by requested model |
| latency per stage (p50, p95) | \`latency_percentiles_per_stage_hourly\` | exact quantiles over the run's requests (not hourly DDSketch merges) |
| retrieval relevance | \`retrieval_quality\` | the run's retrieval spans, one figure |
| feedback (thumbs, ratings, comments) | \`feedback_rate_and_ratings\` | feedback on the run's requests whenever given (the query counts feedback given in the range) |
| experiment variants | \`ab_variant_comparison\` | the run's requests, exact quantiles, thumbs counts |
| evaluations | \`evaluation_score_distribution\` | the run's requests; mean only |
| features | \`request_stage_breakdown\` | runs it as is |

## Alerts

Each rule is a ClickHouse query (format *table*: string columns become the alert instance's labels,
exactly one numeric column is its value) → **reduce** (\`last\`, drop non-numbers) → **threshold**, so one
rule yields one alert per service / model / data source. Rules carry the labels \`severity\` and
\`source=ragscope\` and the annotations \`summary\`, \`description\`, \`dashboard\` (a link with the alert's
labels as variables) and \`__dashboardUid__\` / \`__panelId__\` (Grafana adds the dashboard and panel URLs to
notifications, using \`GF_SERVER_ROOT_URL\`). No data (no traffic) is OK; query errors show as Error.

${alertSection()}

Why the fast rules read \`genai_spans\` and not a rollup: they look at the last ${d.latency.windowMinutes} minutes, and the
hourly rollups would spread a spike over up to two hours. The raw table is sorted by tenant and hour
first, so a ${d.latency.windowMinutes}-minute window is a narrow range scan. The cost rule compares the last complete hour of
\`usage_cost_hourly\` with the same hour of day over the previous ${d.costAnomaly.baselineDays} days (days with spend at that
hour, at least ${d.costAnomaly.minBaselineDays}), so it follows each service's own daily pattern instead of a fixed budget, and
ignores hours under $${d.costAnomaly.minHourlyCostUsd}. The thumbs-down rule compares the last ${d.thumbsDown.windowMinutes} minutes with the previous
${d.thumbsDown.baselineDays} days and needs ${d.thumbsDown.minVotes} votes in the last hour; feedback sent to the API without a service is attributed
through its request.

### Changing thresholds, windows and contact points

- **Thresholds and windows**: \`ALERT_DEFAULTS\` in \`grafana/src/alerts.ts\`, then \`npm run build:dashboards\`
  and restart Grafana (or wait for it to reload provisioning). Provisioned rules are read-only in the
  Grafana UI; to manage them there instead, export them (Alerting → rule → More → Export) and stop
  provisioning \`rules.yaml\`.
- **Where notifications go**: set \`RAGSCOPE_ALERT_WEBHOOK_URL\` (any HTTP endpoint: an on-call tool, a
  Slack/Teams bridge, an Alertmanager-compatible receiver). For Slack, PagerDuty or e-mail receivers,
  add a receiver to \`contactPoints\` in \`grafana/src/provisioning.ts\` and rebuild; secrets go in
  environment variables (\`$NAME\` is expanded in contact point settings, not in rule queries or
  annotations).
- **Routing**: \`notificationPolicyProvisioning()\` in \`grafana/src/provisioning.ts\`. File provisioning
  replaces the organisation's whole policy tree: if you already route other alerts, merge the ragscope
  route into your tree instead of provisioning \`policies.yaml\`.
`;
}
