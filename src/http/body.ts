import busboy from 'busboy';
import type { Context } from 'koa';
import { HttpError, detail } from './errors.js';

const MAX_BYTES = 1024 * 1024;

/** A form body: every value of each field, in order (Django's QueryDict). */
export type FormData = Map<string, string[]>;

/** What a request body held: a JSON value, or form fields. */
export type Body = { kind: 'json'; value: unknown } | { kind: 'form'; fields: FormData };

/**
 * The 413 for a body over the limit. The connection is closed after the answer: the rest of the
 * body is never read (Node would otherwise drain it, however long it is).
 */
function tooLarge(): HttpError {
  return detail(413, 'Request body is too large.', { Connection: 'close' });
}

/**
 * The body, up to MAX_BYTES. Past the limit it stops reading without destroying the request (a
 * destroyed request loses its socket, and with it the answer, the log line and the count: review
 * L2); a client that goes away mid-body gets a 400 nobody will read, but a log line all the same.
 */
function readRaw(ctx: Context): Promise<Buffer> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > MAX_BYTES) return Promise.reject(tooLarge());
  const req = ctx.req;
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (req.destroyed) return Promise.reject(detail(400, 'The request body was cut short.'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onCut);
      req.off('close', onCut);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BYTES) return void chunks.push(chunk);
      settle();
      req.pause();
      reject(tooLarge());
    };
    const onEnd = () => {
      settle();
      resolve(Buffer.concat(chunks));
    };
    const onCut = () => {
      settle();
      reject(detail(400, 'The request body was cut short.'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onCut);
    req.on('close', onCut);
  });
}

function addField(fields: FormData, name: string, value: string): void {
  const values = fields.get(name);
  if (values) values.push(value);
  else fields.set(name, [value]);
}

function parseUrlencoded(raw: Buffer): FormData {
  const fields: FormData = new Map();
  for (const [name, value] of new URLSearchParams(raw.toString('utf8'))) addField(fields, name, value);
  return fields;
}

function parseMultipart(raw: Buffer, contentType: string): Promise<FormData> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(detail(400, `Multipart form parse error - ${error.message}`));
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: MAX_BYTES, fields: 100, files: 0 } });
    } catch (error) {
      return fail(error as Error);
    }
    const fields: FormData = new Map();
    parser.on('field', (name, value) => addField(fields, name, value));
    // Uploaded files mean nothing to these endpoints: drain and ignore them.
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('error', fail);
    parser.on('close', () => resolve(fields));
    parser.end(raw);
  });
}

/** V8 quotes the body in some messages ("… \"{pass…\" is not valid JSON"): keep the reason only. */
function jsonMessage(error: Error): string {
  return error.message.replace(/, ".*" is not valid JSON$/s, ' in JSON');
}

/** The media types a route parses, as DRF names them in its parser classes. */
export type MediaType = 'application/json' | 'application/x-www-form-urlencoded' | 'multipart/form-data';

/**
 * Reads and parses a request body the way DRF's `request.data` does: an empty body is an empty
 * dictionary whatever its type; JSON, urlencoded and multipart are parsed; any other media type is
 * 415 naming the Content-Type as sent; broken JSON is 400 `JSON parse error - …`.
 */
export async function readBody(ctx: Context, accepted: readonly MediaType[]): Promise<Body> {
  const raw = await readRaw(ctx);
  if (raw.length === 0) return { kind: 'json', value: {} };
  const contentType = ctx.get('Content-Type');
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase() as MediaType;
  if (!accepted.includes(mediaType)) throw detail(415, `Unsupported media type "${contentType}" in request.`);
  switch (mediaType) {
    case 'application/json':
      try {
        return { kind: 'json', value: JSON.parse(raw.toString('utf8')) };
      } catch (error) {
        throw detail(400, `JSON parse error - ${jsonMessage(error as Error)}`);
      }
    case 'application/x-www-form-urlencoded':
      return { kind: 'form', fields: parseUrlencoded(raw) };
    case 'multipart/form-data':
      return { kind: 'form', fields: await parseMultipart(raw, contentType) };
  }
}

export const ALL_MEDIA_TYPES: readonly MediaType[] = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];
