import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import type { Transform } from 'node:stream';
import { HttpError } from './http-error.js';

export type OtlpFormat = 'protobuf' | 'json';

export interface OtlpBody {
  format: OtlpFormat;
  /** The decompressed request body. */
  body: Buffer;
}

export interface BodyLimits {
  /** Maximum body size after decompression (413 above). Default 64 MiB, the OTLP recommendation. */
  maxBytes?: number;
  /** Maximum size on the wire when a Content-Encoding is used. Default: maxBytes. */
  maxCompressedBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

type ContentCoding = 'identity' | 'gzip' | 'deflate';

/** Larger output chunks than zlib's 16 KiB default: fewer 'data' events per MiB inflated. */
const ZLIB_OPTIONS = { chunkSize: 64 * 1024 };

/** Maps a Content-Type header to the OTLP format it carries; anything else is 415. */
export function parseOtlpContentType(header: string | undefined): OtlpFormat {
  if (!header) throw new HttpError(415, 'missing Content-Type; use application/x-protobuf or application/json');
  const [mediaType, ...params] = header.split(';');
  const type = mediaType.trim().toLowerCase();
  if (type === 'application/x-protobuf') return 'protobuf';
  if (type === 'application/json') {
    for (const param of params) {
      const [name, rawValue = ''] = param.split('=');
      if (name.trim().toLowerCase() !== 'charset') continue;
      const charset = rawValue.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
      if (charset !== 'utf-8' && charset !== 'utf8') {
        throw new HttpError(415, `unsupported charset ${JSON.stringify(charset)} for application/json; use utf-8`);
      }
    }
    return 'json';
  }
  throw new HttpError(415, `unsupported Content-Type ${JSON.stringify(type)}; use application/x-protobuf or application/json`);
}

function parseContentEncoding(header: string | undefined): ContentCoding {
  const coding = (header ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return 'identity';
  if (coding === 'gzip' || coding === 'x-gzip') return 'gzip';
  if (coding === 'deflate') return 'deflate';
  throw new HttpError(415, `unsupported Content-Encoding ${JSON.stringify(coding)}; use gzip, deflate or identity`);
}

/**
 * Reads an OTLP/HTTP request body: checks Content-Type (415), decompresses gzip/deflate (415 for other
 * codings, 400 when corrupt) and enforces the size limits while streaming (413), so a compression bomb
 * is stopped after at most maxBytes of output. On error the rest of the request is drained and discarded,
 * so the caller can still answer on the same connection.
 */
export async function readOtlpBody(req: IncomingMessage, limits: BodyLimits = {}): Promise<OtlpBody> {
  const format = parseOtlpContentType(req.headers['content-type']);
  const coding = parseContentEncoding(req.headers['content-encoding']);
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxWireBytes = coding === 'identity' ? maxBytes : (limits.maxCompressedBytes ?? maxBytes);
  const declared = Number(req.headers['content-length']);
  if (declared > maxWireBytes) {
    throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${maxWireBytes} bytes`);
  }
  if (req.readableEnded) throw new HttpError(500, 'request body was already consumed');
  const body = await collectBody(req, coding, maxBytes, maxWireBytes);
  return { format, body };
}

function collectBody(req: IncomingMessage, coding: ContentCoding, maxBytes: number, maxWireBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let wireBytes = 0;
    let settled = false;
    let decompressor: Transform | undefined;

    const settle = (error: HttpError | undefined): void => {
      if (settled) return;
      settled = true;
      req.off('data', onWireData);
      req.off('end', onWireEnd);
      req.off('close', onWireClose);
      if (decompressor) {
        decompressor.off('data', onBodyData);
        decompressor.destroy();
      }
      // Drain and discard whatever is still unread (an error, or data after the end of a gzip stream)
      // without buffering it, so the connection stays usable for the response.
      if (!req.readableEnded) req.resume();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, size));
    };

    const onBodyData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        const after = coding === 'identity' ? '' : ' after decompression';
        settle(new HttpError(413, `request body exceeds the limit of ${maxBytes} bytes${after}`));
        return;
      }
      chunks.push(chunk);
    };

    const onWireData = (chunk: Buffer): void => {
      wireBytes += chunk.length;
      if (wireBytes > maxWireBytes) {
        settle(new HttpError(413, `request body exceeds the limit of ${maxWireBytes} bytes`));
        return;
      }
      if (coding === 'identity') {
        onBodyData(chunk);
        return;
      }
      decompressor ??= createDecompressor(coding, chunk);
      if (!decompressor.write(chunk)) {
        req.pause();
        decompressor.once('drain', () => {
          if (!settled) req.resume();
        });
      }
    };

    const onWireEnd = (): void => {
      if (coding === 'identity') settle(undefined);
      else (decompressor ??= createDecompressor(coding, undefined)).end();
    };

    const onWireClose = (): void => {
      if (!req.complete) settle(new HttpError(400, 'request aborted before the body was complete'));
    };

    const createDecompressor = (kind: 'gzip' | 'deflate', firstChunk: Buffer | undefined): Transform => {
      const stream =
        kind === 'gzip'
          ? createGunzip(ZLIB_OPTIONS)
          : isZlibWrapped(firstChunk)
            ? createInflate(ZLIB_OPTIONS)
            : createInflateRaw(ZLIB_OPTIONS);
      stream.on('data', onBodyData);
      stream.on('end', () => settle(undefined));
      stream.on('error', (err: Error) => settle(new HttpError(400, `invalid ${kind} request body: ${err.message}`)));
      return stream;
    };

    req.on('data', onWireData);
    req.on('end', onWireEnd);
    req.on('close', onWireClose);
    req.on('error', (err: Error) => settle(new HttpError(400, `request body could not be read: ${err.message}`)));
  });
}

/** HTTP "deflate" is zlib-wrapped (RFC 9110), but some clients send raw deflate; the zlib header tells them apart. */
function isZlibWrapped(firstChunk: Buffer | undefined): boolean {
  if (!firstChunk || firstChunk.length < 2) return true;
  const cmf = firstChunk[0];
  const flg = firstChunk[1];
  return (cmf & 0x0f) === 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 === 0;
}
