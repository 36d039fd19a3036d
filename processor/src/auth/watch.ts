import { watchFile, unwatchFile } from 'node:fs';
import type { Logger } from '../logger.js';
import type { ApiKeys } from './api-keys.js';

/**
 * Reloads the keys when the file changes (polled: survives editors and `mv` replacing the file, which
 * fs.watch loses) and on SIGHUP. A file that became invalid is refused loudly and the previous keys stay.
 * Returns the function that stops watching.
 */
export function watchApiKeys(keys: ApiKeys, file: string | undefined, logger: Logger, intervalMs = 500, onReload?: () => void): () => void {
  const reload = (why: string) => {
    try {
      keys.reload();
      logger.info({ keys: keys.size, why }, 'API keys reloaded');
      onReload?.();
    } catch (err) {
      logger.error({ err: (err as Error).message, why }, 'API keys not reloaded: the previous keys stay in force');
    }
  };
  const onChange = () => reload('file changed');
  if (file) watchFile(file, { interval: intervalMs, persistent: false }, onChange);
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  return () => {
    if (file) unwatchFile(file, onChange);
    process.off('SIGHUP', onHup);
  };
}
