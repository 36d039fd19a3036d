#!/usr/bin/env node
// npm run sql -- "SELECT ..."   (or pipe the query on stdin)
// Sends the query to a running processor's read-only SQL endpoint.
// Query parameters as clickhouse-client takes them: --param_name=value (or --param_name value) for {name:Type}.
const DEFAULT_URL = `http://127.0.0.1:${process.env.RAGSCOPE_PORT ?? '4318'}`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let format = 'PrettyCompactMonoBlock';
  const formatIndex = args.indexOf('--format');
  if (formatIndex >= 0) {
    format = args[formatIndex + 1] ?? format;
    args.splice(formatIndex, 2);
  }
  let params: Record<string, string>;
  try {
    params = takeParams(args);
  } catch (err) {
    console.error(`npm run sql: ${(err as Error).message}`);
    process.exit(2);
  }
  const query = args.length > 0 ? args.join(' ') : process.stdin.isTTY ? '' : await readStdin();
  if (query.trim() === '') {
    console.error(
      'usage: npm run sql -- "SELECT ... {name:Type} ..." [--param_name=value ...] [--format JSONEachRow]   (env RAGSCOPE_URL, RAGSCOPE_SQL_TOKEN)',
    );
    process.exit(2);
  }
  const base = process.env.RAGSCOPE_URL ?? DEFAULT_URL;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (process.env.RAGSCOPE_SQL_TOKEN) headers.authorization = `Bearer ${process.env.RAGSCOPE_SQL_TOKEN}`;
  let response: Response;
  try {
    response = await fetch(`${base}/sql`, { method: 'POST', headers, body: JSON.stringify({ query, default_format: format, params }) });
  } catch (err) {
    console.error(`cannot reach the processor at ${base} (${(err as Error).message}); start it with: npm start`);
    process.exit(1);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error: string }).error;
    } catch {
      /* not JSON: print as is */
    }
    console.error(`error ${response.status}: ${message}`);
    process.exit(1);
  }
  process.stdout.write(text);
}

/** Removes `--param_<name>=<value>` / `--param_<name> <value>` from args and returns them by name. */
function takeParams(args: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (let i = 0; i < args.length; ) {
    const match = /^--param_([A-Za-z_][A-Za-z0-9_]*)(?:=([\s\S]*))?$/.exec(args[i]);
    if (!match) {
      if (args[i].startsWith('--param_')) throw new Error(`invalid parameter option ${JSON.stringify(args[i])}; use --param_<name>=<value>`);
      i++;
      continue;
    }
    const [, name, inline] = match;
    let value = inline;
    let used = 1;
    if (value === undefined) {
      if (i + 1 >= args.length) throw new Error(`--param_${name} needs a value (--param_${name}=<value>)`);
      value = args[i + 1];
      used = 2;
    }
    params[name] = value;
    args.splice(i, used);
  }
  return params;
}

void main();
