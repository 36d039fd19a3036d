// Feedback that names only a response id is linked to its trace at write time when the response's span is
// already stored (the common case: feedback comes after the answer). Resolving at write time keeps the
// read-time lookup (feedback views → response_lookup) down to the few that arrived before their spans.
import type { ClickHouseClient } from '@clickhouse/client';

/** Trace id of the span that produced `responseIds`, for those already stored (missing ones are absent). */
export async function traceIdsForResponses(client: ClickHouseClient, tenant: string, responseIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ids = [...new Set(responseIds.filter((r) => r !== ''))];
  if (ids.length === 0) return out;
  const rs = await client.query({
    query: `SELECT ResponseId, any(TraceId) AS TraceId FROM response_lookup
            WHERE TenantId = {tenant:String} AND ResponseId IN {ids:Array(String)} GROUP BY ResponseId`,
    query_params: { tenant, ids },
    format: 'JSONEachRow',
  });
  for (const row of await rs.json<{ ResponseId: string; TraceId: string }>()) out.set(row.ResponseId, row.TraceId);
  return out;
}

/** One response id; '' when not stored yet or when the lookup fails (the feedback views resolve it later). */
export async function traceIdForResponse(client: ClickHouseClient, tenant: string, responseId: string): Promise<string> {
  try {
    return (await traceIdsForResponses(client, tenant, [responseId])).get(responseId) ?? '';
  } catch {
    return '';
  }
}
