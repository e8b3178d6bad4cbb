import { readFile } from 'node:fs/promises';

/**
 * Watches a process's peak resident memory (VmHWM in /proc, MB) from outside, every `everyMs`,
 * until stop(), which returns the highest value seen (0 if none was read).
 */
export function watchPeakRss(pid: number, everyMs = 25): { stop: () => number } {
  let peak = 0;
  const poll = setInterval(() => {
    void readFile(`/proc/${pid}/status`, 'utf8').then(
      (status) => {
        const m = /VmHWM:\s+(\d+) kB/.exec(status);
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      },
      () => undefined, // the process has exited
    );
  }, everyMs);
  return {
    stop: () => {
      clearInterval(poll);
      return peak;
    },
  };
}
