// The bundled document set: demo/corpus/help-center.md, one `## <id> | <title>` section per document.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Doc {
  id: string;
  title: string;
  text: string;
}

/** demo/corpus/help-center.md (the same relative path from demo/src and demo/dist). */
export const CORPUS_FILE = fileURLToPath(new URL('../corpus/help-center.md', import.meta.url));

export function parseCorpus(markdown: string): Doc[] {
  const docs: Doc[] = [];
  for (const section of markdown.split(/^## /m).slice(1)) {
    const newline = section.indexOf('\n');
    const header = (newline < 0 ? section : section.slice(0, newline)).trim();
    const text = (newline < 0 ? '' : section.slice(newline + 1)).replace(/\s+/g, ' ').trim();
    const bar = header.indexOf('|');
    const id = (bar < 0 ? header : header.slice(0, bar)).trim();
    const title = (bar < 0 ? header : header.slice(bar + 1)).trim();
    if (id && text) docs.push({ id, title, text });
  }
  return docs;
}

export function loadCorpus(file: string = CORPUS_FILE): Doc[] {
  const docs = parseCorpus(readFileSync(file, 'utf8'));
  if (docs.length === 0) throw new Error(`no documents in ${file} (expected "## <id> | <title>" sections)`);
  return docs;
}
