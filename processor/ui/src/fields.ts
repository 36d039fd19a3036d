// A panel's fieldConfig applied to one field: the defaults, then every override matching the field's
// name (matcher "byName"), property by property, as Grafana applies them.
import type { FieldDisplay } from './format.js';

export interface FieldConfig {
  defaults?: FieldDisplay;
  overrides?: Array<{ matcher: { id: string; options: unknown }; properties: Array<{ id: string; value: unknown }> }>;
}

export function fieldDisplay(config: FieldConfig | undefined, name: string): FieldDisplay {
  const out: FieldDisplay = { ...(config?.defaults ?? {}), custom: { ...(config?.defaults?.custom ?? {}) } };
  for (const o of config?.overrides ?? []) {
    if (o.matcher.id !== 'byName' || o.matcher.options !== name) continue;
    for (const p of o.properties) {
      if (p.id.startsWith('custom.')) out.custom![p.id.slice(7)] = p.value;
      else (out as Record<string, unknown>)[p.id] = p.value;
    }
  }
  return out;
}
