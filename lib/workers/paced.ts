/**
 * Flow control for a stream of messages from a pool thread to the event loop over a MessagePort.
 *
 * Node delivers every message already queued on a port in one turn of the receiving loop (at least
 * 1000 of them): a thread that posts a whole book as 200 chapter messages, or 73,000 chunks as 150
 * pages, has all of them decoded back to back on the loop, one stall of a second or more. So the
 * sender posts a message only when the receiver has granted a credit, and the receiver grants one
 * per message it has handled, after yielding to the loop (setImmediate): at most WINDOW messages
 * are ever in flight, and requests run between them.
 */
import type { MessagePort } from 'node:worker_threads';

/** Messages in flight at once: one decoding while the next crosses. */
const WINDOW = 2;
const CREDIT = '__folio_credit__';

export interface PacedSender {
  /** Queues a message; messages go out in order, each when the receiver has room. */
  send(message: unknown): void;
  /** Resolves once every queued message is posted (or the receiver went away). */
  drain(): Promise<void>;
}

/** The thread's side. The receiver must wrap its port with `receivePaced`. */
export function pacedSender(port: MessagePort): PacedSender {
  const queue: unknown[] = [];
  let credits = WINDOW;
  let closed = false;
  let drained: (() => void) | undefined;
  const pump = (): void => {
    while (credits > 0 && queue.length > 0 && !closed) {
      credits--;
      port.postMessage(queue.shift());
    }
    if ((queue.length === 0 || closed) && drained) {
      drained();
      drained = undefined;
    }
  };
  port.on('message', (message: unknown) => {
    if (message !== CREDIT) return;
    credits++;
    pump();
  });
  // The receiver closed its end (it failed or gave up): nothing more can be delivered.
  port.on('close', () => {
    closed = true;
    pump();
  });
  return {
    send(message) {
      queue.push(message);
      pump();
    },
    drain() {
      if (queue.length === 0 || closed) return Promise.resolve();
      return new Promise<void>((resolve) => (drained = resolve));
    },
  };
}

/** The loop's side: `handle` gets each message in order; a credit goes back after a yield. */
export function receivePaced<T>(port: MessagePort, handle: (message: T) => void): void {
  port.on('message', (message: T) => {
    try {
      handle(message);
    } finally {
      setImmediate(() => {
        try {
          port.postMessage(CREDIT);
        } catch {
          // The port was closed meanwhile: the stream is over.
        }
      });
    }
  });
}
