import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hourIdOf, hourOfKey, hourPath, hoursBetween, hourStartMs, rawObjectKey } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { getJson, listAll, putJson } from '../../src/lake/store.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('oe-lake-');

describe('LocalStore', () => {
  it('writes atomically, reads back, and leaves no temporary files', async () => {
    const store = new LocalStore(tmp());
    await store.put('raw/2026/11/28/06/a.ndjson', 'one\n');
    await store.put('raw/2026/11/28/06/a.ndjson', 'two\n');
    expect(Buffer.from((await store.get('raw/2026/11/28/06/a.ndjson'))!).toString()).toBe('two\n');
    expect(readdirSync(path.join(store.root, 'raw/2026/11/28/06'))).toEqual(['a.ndjson']);
    expect(await store.get('raw/none')).toBeUndefined();
  });

  it('lists keys under a prefix in key order, skipping dot-files', async () => {
    const store = new LocalStore(tmp());
    for (const key of ['raw/2026/11/28/07/b', 'raw/2026/11/28/06/z', 'raw/2026/11/28/06/a', 'curated/x', 'raw/2026/11/28/06/.tmp']) {
      await store.put(key, 'x');
    }
    expect((await listAll(store, 'raw/')).map((o) => o.key)).toEqual(['raw/2026/11/28/06/a', 'raw/2026/11/28/06/z', 'raw/2026/11/28/07/b']);
    expect((await listAll(store, 'raw/2026/11/28/06/')).map((o) => o.key)).toEqual(['raw/2026/11/28/06/a', 'raw/2026/11/28/06/z']);
    expect((await listAll(store, 'nothing/'))).toEqual([]);
  });

  it('moves a finished file into place and round-trips JSON', async () => {
    const store = new LocalStore(tmp());
    const file = path.join(tmp(), 'f');
    await new LocalStore(path.dirname(file)).put('f', 'payload');
    await store.putFile('a/b.txt', file);
    expect(Buffer.from((await store.get('a/b.txt'))!).toString()).toBe('payload');
    await putJson(store, '_state/x.json', { n: 1 });
    expect(await getJson(store, '_state/x.json')).toEqual({ n: 1 });
  });

  it('refuses keys that escape the lake', () => {
    expect(() => new LocalStore(tmp()).localPath('../etc/passwd')).toThrow(/escapes/);
  });
});

describe('layout', () => {
  it('maps times to UTC hours and back', () => {
    const ms = Date.UTC(2015, 2, 8, 23, 59, 59, 999);
    expect(hourIdOf(ms)).toBe('2015-03-08T23');
    expect(hourStartMs('2015-03-08T23')).toBe(Date.UTC(2015, 2, 8, 23));
    expect(hourPath('2015-03-08T23')).toBe('2015/03/08/23');
    expect(hourOfKey('raw/2015/03/08/23/w-1-2.ndjson.gz')).toBe('2015-03-08T23');
    expect(hourOfKey('raw/2015/13/08/23/x')).toBeUndefined();
    expect(hoursBetween('2015-03-08T22', '2015-03-09T01')).toEqual(['2015-03-08T22', '2015-03-08T23', '2015-03-09T00', '2015-03-09T01']);
    expect(() => hourStartMs('2015-02-30T01')).toThrow();
    expect(rawObjectKey('2015-03-08T23', 'w1', 1, 500)).toBe('raw/2015/03/08/23/w1-1-500.ndjson.gz');
  });
});
