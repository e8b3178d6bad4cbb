/**
 * A TCP proxy that cuts every connection after a byte budget, as a network that carries only so
 * much per connection does: run as its own process,
 *
 *   node bin/run-ts.js test/stream/cut-proxy.ts <target host:port> <min bytes> <max bytes> [seed]
 *
 * It prints `listening on <port>`, then one JSON line per connection as it ends:
 * `{"connection":n,"budget":b,"bytes":sent,"cut":true|false}`. Requests go upstream untouched;
 * the answer is forwarded until `budget` bytes (drawn per connection, uniform in [min, max])
 * have reached the client — headers count, wherever the budget ends (mid-record, mid-character)
 * — then the client gets a FIN and the upstream connection is dropped: what the source had sent
 * beyond that, in flight in socket buffers, is lost, as on a real cut.
 */
import net from 'node:net';

const [target, minText, maxText, seedText] = process.argv.slice(2);
const [host, port] = (target ?? '').split(':');
const min = Number(minText);
const max = Number(maxText);
if (!host || !port || !(min > 0) || !(max >= min)) {
  process.stderr.write('usage: cut-proxy.ts <host:port> <min bytes> <max bytes> [seed]\n');
  process.exit(2);
}

let state = (Number(seedText ?? 1) >>> 0) || 1;
/** mulberry32: a small seeded generator, so a run's budgets can be reproduced. */
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

let connections = 0;
const server = net.createServer((client) => {
  const connection = ++connections;
  const budget = min + Math.floor(random() * (max - min + 1));
  let sent = 0;
  let cut = false;
  let reported = false;
  const upstream = net.connect(Number(port), host);
  const report = (): void => {
    if (reported) return;
    reported = true;
    process.stdout.write(JSON.stringify({ connection, budget, bytes: sent, cut }) + '\n');
  };
  const drop = (): void => {
    client.destroy();
    upstream.destroy();
    report();
  };
  client.pipe(upstream);
  upstream.on('data', (chunk: Buffer) => {
    if (cut) return;
    if (sent + chunk.length >= budget) {
      cut = true;
      const head = chunk.subarray(0, budget - sent);
      sent = budget;
      upstream.destroy();
      client.end(head, () => drop());
      return;
    }
    sent += chunk.length;
    if (!client.write(chunk)) {
      upstream.pause();
      client.once('drain', () => upstream.resume());
    }
  });
  upstream.on('end', () => client.end());
  upstream.on('error', drop);
  upstream.on('close', () => {
    if (!cut) client.end();
  });
  client.on('error', drop);
  client.on('close', drop);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening on ${address.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
