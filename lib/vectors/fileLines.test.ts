import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eachLine } from './fileLines.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'folio-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function linesOf(content: string, chunkBytes: number): Promise<Array<[string, number, boolean]>> {
  const file = path.join(dir, 'f.ndjson');
  writeFileSync(file, content);
  const out: Array<[string, number, boolean]> = [];
  await eachLine(file, (text, end, terminated) => out.push([text, end, terminated]), chunkBytes);
  return out;
}

describe('eachLine', () => {
  it('gives every line with the byte offset past it, whatever the chunk size, multi-byte characters split across chunks included', async () => {
    const content = '{"a":1}\n\n{"t":"港口灯塔"}\n{"b":"ünïcödé"}\n';
    const expected: Array<[string, number, boolean]> = [
      ['{"a":1}', 8, true],
      ['', 9, true],
      ['{"t":"港口灯塔"}', 9 + Buffer.byteLength('{"t":"港口灯塔"}') + 1, true],
      ['{"b":"ünïcödé"}', Buffer.byteLength(content), true],
    ];
    for (const chunk of [1, 2, 3, 5, 7, 64, 1 << 20]) expect(await linesOf(content, chunk)).toEqual(expected);
  });

  it('hands over a last line without its newline as unterminated, and an empty file as nothing', async () => {
    for (const chunk of [1, 4, 1 << 20]) {
      expect(await linesOf('x\n{"torn', chunk)).toEqual([
        ['x', 2, true],
        ['{"torn', 8, false],
      ]);
      expect(await linesOf('', chunk)).toEqual([]);
    }
  });
});
