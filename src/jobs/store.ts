import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrnoCode } from '../errors.ts';
import type { JobRecord } from './types.ts';

/** Reads and writes job records in one folder; writes are atomic (temporary file + rename). */
export class JobFiles {
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

  /** Every record, newest first. */
  async list(): Promise<JobRecord[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) return [];
      throw error;
    }
    const ids = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5));
    const records = await Promise.all(ids.map((id) => this.read(id)));
    return records
      .filter((r): r is JobRecord => r !== undefined && typeof r.id === 'string')
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }
}
