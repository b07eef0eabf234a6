import { pino, type DestinationStream, type Logger } from 'pino';

export interface AccessFields {
  id: string;
  method: string;
  /** Without the query string, which may carry anything. */
  path: string;
  status: number;
  ms: number;
  ip: string;
  user: string | undefined;
}

/**
 * Writes the per-request line, in the shape pino gives every line (level, time, the logger's
 * bindings, the fields, msg), straight to the logger's own destination, after pino's level check.
 * Why: pino's serialiser is the largest part of what the service adds to a request; one
 * JSON.stringify of these fields, none of which can be a secret, is a fraction of it. Every other
 * line goes through pino (and its redaction). It reaches into pino's internals for its destination
 * (`pino.symbols.streamSym`): test/http/access-log.unit.test.ts fails if a pino upgrade changes
 * that, or the line pino writes.
 */
export function accessLine(logger: Logger): (fields: AccessFields) => void {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]!;
  const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
  const head = `{"level":${logger.levels.values.info}`;
  const tail = bindings === '' ? ',' : `,${bindings},`;
  return (fields) => {
    if (!logger.isLevelEnabled('info')) return;
    stream.write(`${head},"time":${Date.now()}${tail}${JSON.stringify(fields).slice(1, -1)},"msg":"request"}\n`);
  };
}
