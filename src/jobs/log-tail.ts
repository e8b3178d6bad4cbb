import { promises as fs } from 'node:fs';
import { isErrnoCode } from '../errors.ts';

/** The last `maxBytes` of a file as text (from a line start when it had to cut), or '' when absent. */
export async function tail(file: string, maxBytes = 8192): Promise<string> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if (isErrnoCode(error, 'ENOENT')) return '';
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await handle.close();
  }
}

/** The last non-empty line of a file that passes `keep`, trimmed; undefined when none. */
export async function lastLine(file: string, keep: (line: string) => boolean = () => true): Promise<string | undefined> {
  const lines = (await tail(file)).split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = lines[i];
    if (line && keep(line)) return line;
  }
  return undefined;
}
