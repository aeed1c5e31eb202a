/**
 * The subscription benchmark's clients, in a process of their own (forked by subscriptions.bench.ts):
 * 10,000 client sockets and the gateway's 10,000 server sockets would not fit one process's file
 * limit, and the gateway process's memory per connection is then the server side alone.
 *
 * IPC protocol: {type:'open', urls, tokens, devices, query} → {type:'opened', connections, failed};
 * {type:'collect'} → {type:'arrivals', arrivals: [tag, epochMs][], errors}; {type:'close'} → {type:'closed'}.
 * Times are `performance.timeOrigin + performance.now()` (the same clock as the parent's).
 */
import { collect, wsConnect, type Received, type WsConnection } from '../test/kit/subscriptions.js';

type Message =
  | { type: 'open'; urls: string[]; tokens: string[]; devices: number; query: string }
  | { type: 'collect' }
  | { type: 'close' };

const now = (): number => performance.timeOrigin + performance.now();
let connections: WsConnection[] = [];
let arrivals: Array<[string, number]> = [];
let errors = 0;

function track(received: Received): void {
  // Record the arrival time as the event is pushed (no polling delay).
  const push = received.events.push.bind(received.events);
  received.events.push = (...items) => {
    for (const item of items) {
      const tag = (item.data?.readingProgressChanged as { deviceId?: string } | undefined)?.deviceId;
      if (tag) arrivals.push([tag, now()]);
      else errors++;
    }
    // Nothing is kept: 10,000 streams × many events would be the clients' memory, not the gateway's.
    return push();
  };
}

process.on('message', (message: Message) => {
  void (async () => {
    if (message.type === 'open') {
      let failed = 0;
      const opened: WsConnection[] = [];
      let i = 0;
      // A few hundred at a time: the gateway authenticates and dry-runs each.
      const all = message.tokens.flatMap((token) => Array.from({ length: message.devices }, () => token));
      for (let start = 0; start < all.length; start += 250) {
        const batch = all.slice(start, start + 250).map((token) => wsConnect(message.urls[i++ % message.urls.length]!, token));
        const results = await Promise.allSettled(batch.map((c) => c.opened));
        results.forEach((r, k) => {
          if (r.status === 'fulfilled') {
            opened.push(batch[k]!);
            track(collect(batch[k]!.client, message.query));
          } else failed++;
        });
      }
      connections = opened;
      process.send!({ type: 'opened', connections: opened.length, failed });
    } else if (message.type === 'collect') {
      process.send!({ type: 'arrivals', arrivals, errors });
      arrivals = [];
      errors = 0;
    } else if (message.type === 'close') {
      await Promise.all(connections.map((c) => c.dispose()));
      connections = [];
      process.send!({ type: 'closed' });
    }
  })();
});
process.send!({ type: 'ready' });
