import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrnoCode } from '../errors.ts';
import type { JobRecord } from './types.ts';

/** A folder changed this recently may change again within the same file-system timestamp: read it again. */
const RACY_MS = 2_000;

/** Reads and writes job records in one folder; writes are atomic (temporary file + rename). */
export class JobFiles {
  /** The last list, with the folder's modification time it was read at. */
  private listed?: { mtimeMs: number; records: JobRecord[] };

  constructor(readonly dir: string) {}

  file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  logFile(id: string): string {
    return path.join(this.dir, `${id}.log`);
  }

  async write(record: JobRecord): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const target = this.file(record.id);
    const tmp = path.join(this.dir, `.${record.id}.${process.pid}.${Date.now()}.tmp`);
    await fs.writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
    await fs.rename(tmp, target);
  }

  async read(id: string): Promise<JobRecord | undefined> {
    try {
      const record = JSON.parse(await fs.readFile(this.file(id), 'utf8')) as JobRecord;
      // Records written before there were runners are local jobs.
      return { ...record, runner: record.runner ?? 'local' };
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) return undefined;
      if (error instanceof SyntaxError) return undefined; // a record cut by a crash before rename cannot happen, but be safe
      throw error;
    }
  }

  /**
   * Every record, newest first. Records pile up (a scheduler every 5 min writes 288 a day) and the
   * monitor lists them each second, so an unchanged folder is not read again: every write renames
   * a file into it, which moves the folder's modification time (unless that was under RACY_MS ago,
   * when a second write could share the timestamp).
   */
  async list(): Promise<JobRecord[]> {
    let names: string[];
    let mtimeMs: number;
    try {
      mtimeMs = (await fs.stat(this.dir)).mtimeMs;
      if (this.listed?.mtimeMs === mtimeMs && Date.now() - mtimeMs > RACY_MS) return [...this.listed.records];
      names = await fs.readdir(this.dir);
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) return [];
      throw error;
    }
    const ids = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5));
    const records = (await Promise.all(ids.map((id) => this.read(id))))
      .filter((r): r is JobRecord => r !== undefined && typeof r.id === 'string')
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    this.listed = { mtimeMs, records };
    return [...records];
  }
}
