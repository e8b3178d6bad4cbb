import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Every file under `dir` (hidden ones too), relative path → SHA-1 of its bytes, read with plain
 * fs: any write, new file or deletion under `dir` changes it.
 */
export function fileTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = createHash('sha1').update(readFileSync(file)).digest('hex');
  }
  return out;
}
