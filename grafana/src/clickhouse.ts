import type * as cog from '@grafana/grafana-foundation-sdk/cog';

/** The provisioned ClickHouse data source. Every panel, variable and alert query points at this uid. */
export const DATASOURCE = {
  type: 'grafana-clickhouse-datasource',
  uid: 'ragscope-clickhouse',
  name: 'ragscope ClickHouse',
} as const;

export const DATASOURCE_REF = { type: DATASOURCE.type, uid: DATASOURCE.uid };

/** The plugin's Format enum (src/types: TIMESERIES 0, TABLE 1, LOGS 2, TRACE 3). */
export enum Format {
  TimeSeries = 0,
  Table = 1,
  Logs = 2,
  Traces = 3,
}

/** The plugin's QueryType (only used by Explore to pick a visualization). */
export type QueryType = 'timeseries' | 'table' | 'logs' | 'traces';

const QUERY_TYPE_FOR: Record<Format, QueryType> = {
  [Format.TimeSeries]: 'timeseries',
  [Format.Table]: 'table',
  [Format.Logs]: 'logs',
  [Format.Traces]: 'traces',
};

/** A ClickHouse panel/alert target in the plugin's SQL-editor shape. */
export interface ClickHouseQuery {
  refId: string;
  datasource: { type: string; uid: string };
  editorType: 'sql';
  pluginVersion: string;
  rawSql: string;
  format: Format;
  queryType: QueryType;
  hide?: boolean;
  /** Alerting only: Grafana sends these with the query; intervalMs drives $__interval_s / $__timeInterval. */
  intervalMs?: number;
  maxDataPoints?: number;
}

/** The plugin version the targets are written for (any 4.x reads this shape). */
export const PLUGIN_VERSION = '4.11.2';

/** Typed builder for ClickHouse SQL targets; plugs into the foundation SDK's panel and alert builders. */
export class ClickHouseQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly q: ClickHouseQuery;

  constructor(refId: string, rawSql: string, format: Format = Format.Table) {
    this.q = {
      refId,
      datasource: { ...DATASOURCE_REF },
      editorType: 'sql',
      pluginVersion: PLUGIN_VERSION,
      rawSql: normalizeSql(rawSql),
      format,
      queryType: QUERY_TYPE_FOR[format],
    };
  }

  format(format: Format): this {
    this.q.format = format;
    this.q.queryType = QUERY_TYPE_FOR[format];
    return this;
  }

  hide(hide = true): this {
    this.q.hide = hide;
    return this;
  }

  intervalMs(ms: number): this {
    this.q.intervalMs = ms;
    return this;
  }

  maxDataPoints(n: number): this {
    this.q.maxDataPoints = n;
    return this;
  }

  build(): cog.Dataquery & ClickHouseQuery {
    return { ...this.q, _implementsDataqueryVariant() {} } as unknown as cog.Dataquery & ClickHouseQuery;
  }

  /** The plain JSON object (what ends up in the dashboard / rule files). */
  toJSON(): ClickHouseQuery {
    return { ...this.q };
  }
}

export const chQuery = (refId: string, rawSql: string, format: Format = Format.Table) =>
  new ClickHouseQueryBuilder(refId, rawSql, format);

/** Strips the common indentation of a template literal and trailing blanks. */
export function normalizeSql(sql: string): string {
  const lines = sql.replace(/^\n+/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent).replace(/\s+$/, '')).join('\n');
}
