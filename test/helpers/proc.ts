import { readFile } from 'node:fs/promises';

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ: 100 on Linux, whatever CONFIG_HZ). */
const USER_HZ = 100;

/**
 * Watches a process from outside through /proc, every `everyMs`, until stop(): its peak resident
 * memory (VmHWM, MB; 0 if none was read) and the CPU time it had used (user + system, seconds)
 * at the last look — up to `everyMs` short of its total when it exits in between.
 */
export function watchProcess(pid: number, everyMs = 25): { stop: () => { peakRssMb: number; cpuSeconds: number } } {
  let peakRssMb = 0;
  let cpuSeconds = 0;
  const poll = setInterval(() => {
    // (each read fails once the process has exited)
    void readFile(`/proc/${pid}/status`, 'utf8').then(
      (status) => {
        const m = /VmHWM:\s+(\d+) kB/.exec(status);
        if (m) peakRssMb = Math.max(peakRssMb, Number(m[1]) / 1024);
      },
      () => undefined,
    );
    void readFile(`/proc/${pid}/stat`, 'utf8').then(
      (stat) => {
        // after "pid (comm) ", utime and stime are the 12th and 13th fields (comm may hold spaces)
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuSeconds = Math.max(cpuSeconds, (Number(fields[11]) + Number(fields[12])) / USER_HZ);
      },
      () => undefined,
    );
  }, everyMs);
  return {
    stop: () => {
      clearInterval(poll);
      return { peakRssMb, cpuSeconds };
    },
  };
}
