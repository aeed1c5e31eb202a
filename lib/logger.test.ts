import { describe, expect, it } from 'vitest';
import { formatHuman } from './logger.js';

describe('human log lines (a terminal)', () => {
  it('puts time, level, service and message first, other fields after, and no JSON braces', () => {
    const line = JSON.stringify({ level: 30, time: '2026-12-03T12:15:36.779Z', service: 'catalog', name: 'folio', port: 4712, msg: 'catalog subgraph listening' });
    expect(formatHuman(line)).toBe('12:15:36 INFO  catalog   catalog subgraph listening  port=4712\n');
  });

  it('shows an error stack under its line', () => {
    const line = JSON.stringify({ level: 50, time: '2026-12-03T12:15:36.779Z', service: 'search', err: { message: 'boom', stack: 'Error: boom\n    at x' }, msg: 'stop failed' });
    expect(formatHuman(line)).toBe('12:15:36 ERROR search    stop failed\n  Error: boom\n    at x\n');
  });
});
