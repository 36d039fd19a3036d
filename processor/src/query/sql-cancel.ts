import type { ClickHouseClient } from '@clickhouse/client';

/**
 * Each /sql query starts with a comment carrying its own id, so it can be found in system.processes and
 * stopped with KILL QUERY. The embedded engine (chdb) has no other way to interrupt a running query: an
 * AbortSignal only rejects the caller's promise while the query keeps its thread until it finishes. KILL
 * QUERY works the same in embedded and server mode.
 */
export function tagQuery(sql: string, id: string): string {
  return `${queryTag(id)}\n${sql}`;
}

function queryTag(id: string): string {
  return `/* ragscope-sql ${id} */`;
}

const UUID = /^[0-9a-f-]{36}$/;

/** Asks the engine to stop the tagged query (ASYNC: returns at once; the query ends with code 394). */
export async function killTaggedQuery(client: ClickHouseClient, id: string): Promise<void> {
  // The id is a UUID we generated, never user input: inlined rather than bound, because in embedded mode
  // every parameterized call shares one process-wide queue (chdb serializes parameter binding).
  if (!UUID.test(id)) throw new Error(`not a query id: ${id}`);
  await client.command({ query: `KILL QUERY WHERE startsWith(query, '${queryTag(id)}') ASYNC` });
}
