// A small in-memory vector index over the bundled documents. Document vectors are computed locally with
// the same deterministic embedding the simulated provider uses (demo/src/text.ts), as if the index had been
// built offline; the query vector comes from the (stubbed) embeddings API at request time.
import type { Doc } from './corpus.js';
import { cosine, embedText, EMBEDDING_DIMENSIONS } from './text.js';

export interface ScoredDoc extends Doc {
  /** Cosine similarity of the query and the document, rounded to 4 decimals. */
  score: number;
}

export class VectorIndex {
  private readonly vectors: number[][];
  constructor(
    readonly docs: readonly Doc[],
    readonly dimensions = EMBEDDING_DIMENSIONS,
  ) {
    this.vectors = docs.map((d) => embedText(`${d.title}. ${d.text}`, dimensions));
  }

  /** The k most similar documents, best first. */
  search(queryVector: readonly number[], k: number): ScoredDoc[] {
    return this.docs
      .map((doc, i) => ({ ...doc, score: Math.round(cosine(queryVector, this.vectors[i]!) * 10_000) / 10_000 }))
      .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))
      .slice(0, k);
  }
}
