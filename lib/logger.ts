/**
 * Structured logs (pino); every service logs with its name, requests with their id. JSON lines,
 * except on a terminal, where a person reads them: one short human line per record.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** `level` comes from the config (FOLIO_LOG_LEVEL) or the caller; the logger reads no environment. */
export function createLogger(service: string, level: string): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  };
  return process.stdout.isTTY ? pino(options, humanLines(process.stdout)) : pino(options);
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'service', 'name', 'msg', 'pid', 'hostname', 'err']);

/** `12:15:36 INFO  catalog    upload stored  bookId=… chapters=4`, with an error's stack below it. */
export function formatHuman(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const level = LEVELS[record.level as number] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([key]) => !OMIT.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const err = record.err as { stack?: string; message?: string } | undefined;
  const head = `${time} ${level} ${String(record.service ?? '').padEnd(9)} ${String(record.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}`;
  return `${head}${err ? `\n  ${err.stack ?? err.message ?? ''}` : ''}\n`;
}

function humanLines(out: NodeJS.WritableStream): DestinationStream {
  return { write: (line: string) => void out.write(formatHuman(line)) };
}
