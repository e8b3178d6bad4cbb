import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers/moto.ts';

/** A running cut proxy (test/stream/cut-proxy.ts) and what it reported. */
export interface CutProxy {
  /** The stream URL through the proxy. */
  url: string;
  /** One entry per connection that ended: its budget, the bytes it carried and whether it was cut. */
  connections: Array<{ connection: number; budget: number; bytes: number; cut: boolean }>;
  stop(): Promise<void>;
}

/** Starts the cut proxy as its own process in front of `url`'s host, cutting after min..max bytes. */
export async function startCutProxy(url: string, min: number, max: number, seed = 1): Promise<CutProxy> {
  const target = new URL(url);
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/run-ts.js'), path.join(ROOT, 'test/stream/cut-proxy.ts'), target.host, String(min), String(max), String(seed)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const connections: CutProxy['connections'] = [];
  let buffer = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`cut proxy exited (${code}) before listening`)));
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^listening on (\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
        else connections.push(JSON.parse(line) as CutProxy['connections'][number]);
      }
    });
  });
  const proxied = new URL(url);
  proxied.host = `127.0.0.1:${port}`;
  return {
    url: proxied.toString(),
    connections,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
