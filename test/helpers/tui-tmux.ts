import { execFileSync, spawnSync } from 'node:child_process';

/** A tmux server of its own (`tmux -L <socket>`), so tests never touch the user's sessions. */
export interface Tmux {
  socket: string;
  /** Starts a detached session running `command` (a shell command line) at the given size. */
  start(command: string, columns: number, rows: number): void;
  /** Types keys (tmux key names: 'q', 'Enter', 'Tab', 'Up'). */
  send(...keys: string[]): void;
  /** The pane's text now. */
  capture(): string;
  /** The pane's text with its SGR escapes (colours, attributes). */
  captureEscapes(): string;
  /** Waits until the pane's text passes `check`; returns that text. No fixed sleeps. */
  waitFor(check: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  kill(): void;
}

export function createTmux(socket: string): Tmux {
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const session = 'main';
  const self: Tmux = {
    socket,
    start(command, columns, rows) {
      tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), command);
    },
    send(...keys) {
      tmux('send-keys', '-t', session, ...keys);
    },
    capture() {
      return tmux('capture-pane', '-p', '-t', session);
    },
    captureEscapes() {
      return tmux('capture-pane', '-p', '-e', '-t', session);
    },
    async waitFor(check, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let screen = '';
      for (;;) {
        try {
          screen = self.capture();
        } catch (error) {
          screen = `(capture failed: ${(error as Error).message})`;
        }
        if (check(screen)) return screen;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${screen}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    kill() {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      // kill-server returns before the server has gone: a new-session on this socket right
      // after it can reach the dying server and fail with "server exited unexpectedly".
      // Wait until nothing answers on the socket.
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const probe = spawnSync('tmux', ['-L', socket, 'list-sessions'], { encoding: 'utf8' });
        if (/no server running|error connecting/i.test(probe.stderr ?? '')) return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    },
  };
  return self;
}
