import { OtlpDecodeError } from './otlp-decode-error.js';

/** Nesting limit for decoded messages/values (protobufjs and protoc use 100). */
export const MAX_NESTING_DEPTH = 100;

/**
 * The position of a decoder inside a request, kept as a stack of (field name, repeated index)
 * so the happy path allocates nothing; the dotted path string is only built for an error.
 */
export class FieldPath {
  private readonly names: string[] = [];
  private readonly indexes: number[] = [];
  private depth = 0;

  /** `index` is the element index for repeated fields, -1 for singular ones. */
  push(name: string, index: number): void {
    if (this.depth >= MAX_NESTING_DEPTH) {
      throw this.error(`nesting deeper than ${MAX_NESTING_DEPTH} levels`);
    }
    this.names[this.depth] = name;
    this.indexes[this.depth] = index;
    this.depth++;
  }

  pop(): void {
    this.depth--;
  }

  format(leaf?: string): string {
    let out = '';
    for (let i = 0; i < this.depth; i++) {
      if (i > 0) out += '.';
      out += this.names[i];
      if (this.indexes[i] >= 0) out += `[${this.indexes[i]}]`;
    }
    if (leaf !== undefined) out += out ? `.${leaf}` : leaf;
    return out;
  }

  error(reason: string, leaf?: string): OtlpDecodeError {
    return new OtlpDecodeError(this.format(leaf), reason);
  }
}
