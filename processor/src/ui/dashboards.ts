// The generated Grafana dashboards (grafana/dashboards/*.json, built from grafana/src): the built-in viewer
// renders these files, so there is one definition of every panel, variable and query.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** grafana/dashboards at the repository root (same relative depth from src/ui and dist/ui). */
export const DEFAULT_DASHBOARDS_DIR = fileURLToPath(new URL('../../../grafana/dashboards/', import.meta.url));

export interface PanelTarget {
  refId: string;
  rawSql: string;
  format: number;
  hide?: boolean;
}

export interface PanelJson {
  id: number;
  type: string;
  title?: string;
  interval?: string;
  maxDataPoints?: number;
  targets?: PanelTarget[];
  [key: string]: unknown;
}

export interface VariableOption {
  text: string | string[];
  value: string | string[];
}

export interface VariableJson {
  type: string;
  name: string;
  label?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  hide?: number;
  query?: string | { rawSql?: string };
  options?: VariableOption[];
  current?: { text?: string | string[]; value?: string | string[] };
}

export interface DashboardJson {
  uid: string;
  title: string;
  tags?: string[];
  panels: PanelJson[];
  templating?: { list: VariableJson[] };
  [key: string]: unknown;
}

export class Dashboards {
  private readonly byUid = new Map<string, DashboardJson>();

  constructor(readonly list: DashboardJson[]) {
    for (const d of list) this.byUid.set(d.uid, d);
  }

  /** Every dashboard in `dir`; none when the directory is absent (e.g. an image built without grafana/). */
  static load(dir: string = DEFAULT_DASHBOARDS_DIR): Dashboards {
    if (!existsSync(dir)) return new Dashboards([]);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    return new Dashboards(files.map((f) => JSON.parse(readFileSync(dir + f, 'utf8')) as DashboardJson));
  }

  get(uid: string): DashboardJson | undefined {
    return this.byUid.get(uid);
  }

  /** The SQL of every panel target and query variable of every dashboard. */
  static all(dashboards: Dashboards): string[] {
    return dashboards.list.flatMap((d) => [
      ...Dashboards.panels(d).flatMap((p) => (p.targets ?? []).map((t) => t.rawSql)),
      ...(d.templating?.list ?? []).map((v) => (typeof v.query === 'string' ? v.query : String(v.query?.rawSql ?? ''))),
    ]);
  }

  /** Panels including those nested in collapsed rows. */
  static panels(d: DashboardJson): PanelJson[] {
    const out: PanelJson[] = [];
    for (const p of d.panels) {
      out.push(p);
      for (const nested of (p.panels as PanelJson[] | undefined) ?? []) out.push(nested);
    }
    return out;
  }
}
