// POST /v1/flush: read-your-writes. Acknowledgement means "in the write-ahead log"; this answers once
// everything acknowledged before the call is queryable in ClickHouse, so tools and tests that read right
// after writing wait for a condition instead of sleeping.
import type { Request, Response } from 'express';
import type { WriteQueue } from './write-queue.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TIMEOUT_MS = 600_000;

export function flushRoute(queue: WriteQueue) {
  return async (req: Request, res: Response): Promise<void> => {
    const raw = req.query.timeout_ms;
    const timeoutMs = raw === undefined ? DEFAULT_TIMEOUT_MS : Number(raw);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMEOUT_MS) {
      res.status(400).json({ error: `timeout_ms must be an integer from 0 to ${MAX_TIMEOUT_MS}` });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const late = await Promise.race([queue.flushed().then(() => false), timedOut]);
    clearTimeout(timer);
    if (!late) {
      res.json({ status: 'flushed' });
      return;
    }
    res.status(504).json({
      error: `acknowledged data is not all in ClickHouse after ${timeoutMs} ms`,
      spoolBytes: queue.depth,
      shipError: queue.shipError,
    });
  };
}
