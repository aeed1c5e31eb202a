/**
 * Reads a newline-delimited file a large chunk at a time and hands each line to `onLine`, with
 * the byte offset just past it. node:readline over a stream spent ~25 s of a 10,000-book start-up
 * (2.4 GB of vector files) slicing, copying and decoding through its string decoder and regex;
 * splitting Buffers on `\n` and decoding each line once does the same work in a fraction of that.
 */
import { open } from 'node:fs/promises';

const CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * `terminated` is false only for a last line without its newline (an append cut short), which
 * callers decide about. `\r` before a newline is part of the line (these files are written with `\n`).
 */
export async function eachLine(file: string, onLine: (text: string, end: number, terminated: boolean) => void, chunkBytes = CHUNK_BYTES): Promise<void> {
  const handle = await open(file, 'r');
  try {
    let carry = Buffer.alloc(0);
    let base = 0; // file offset of carry[0]
    for (;;) {
      const chunk = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(chunk, 0, chunkBytes, null);
      if (bytesRead === 0) break;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
        onLine(buf.toString('utf8', start, nl), base + nl + 1, true);
        start = nl + 1;
      }
      carry = buf.subarray(start);
      base += start;
    }
    if (carry.length > 0) onLine(carry.toString('utf8'), base + carry.length, false);
  } finally {
    await handle.close();
  }
}
