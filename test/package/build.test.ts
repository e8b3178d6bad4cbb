import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPENEVENTS } from '../helpers/cli.ts';
import { ROOT } from '../helpers/moto.ts';

const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)));

describe('npm run build (the global setup built dist/ from the current src/)', () => {
  it('compiles every .ts/.tsx file under src/ to .js with a source map, and copies every other file as is', () => {
    const built = new Set(files(DIST));
    for (const rel of files(SRC)) {
      if (/\.tsx?$/.test(rel)) {
        const js = rel.replace(/\.tsx?$/, '.js');
        expect(built.has(js), js).toBe(true);
        expect(built.has(`${js}.map`), `${js}.map`).toBe(true);
      } else {
        expect(readFileSync(path.join(DIST, rel)).equals(readFileSync(path.join(SRC, rel))), rel).toBe(true);
      }
    }
  });

  it('leaves no TypeScript import, JSX or tsx loader in the output', () => {
    for (const rel of files(DIST).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(path.join(DIST, rel), 'utf8');
      expect(text, rel).not.toMatch(/from\s+["']\.{1,2}\/[^"']*\.tsx?["']|import\(\s*["'][^"']*\.tsx?["']/);
      expect(text, rel).not.toMatch(/from\s+["']tsx|<[A-Z][A-Za-z]*[\s/>]/);
    }
  });

  it('makes the bin entry executable and points package.json at it', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(path.join(ROOT, pkg.bin.openevents!)).toBe(OPENEVENTS);
    expect(statSync(OPENEVENTS).mode & 0o111).not.toBe(0);
    expect(readFileSync(OPENEVENTS, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('names .ts files and lines in stack traces of the compiled code', () => {
    // context.ts: the line where intOption's parser throws on a non-integer.
    const source = readFileSync(path.join(SRC, 'cli/context.ts'), 'utf8').split('\n');
    const line = source.findIndex((l) => l.includes('must be an integer')) + 1;
    expect(line).toBeGreaterThan(0);
    const script = `process.setSourceMapsEnabled(true);
      const { intOption } = await import(${JSON.stringify(pathToFileURL(path.join(DIST, 'cli/context.js')).href)});
      try { intOption('--n')('x'); } catch (error) { console.log(error.stack); }`;
    const stack = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(stack).toContain(`${path.join(SRC, 'cli/context.ts')}:${line}:`);
  });
});

describe('openevents --version', () => {
  it('prints the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(process.execPath, [OPENEVENTS, '--version'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
    expect(execFileSync(process.execPath, [OPENEVENTS, '-V'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
  });

  it('loads nothing but its own two modules: no program, no package from node_modules', () => {
    // A module hook that names every module Node loads, on stderr.
    const hooks = `export async function load(url, context, next) { process.stderr.write('load ' + url + '\\n'); return next(url, context); }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, OPENEVENTS, '--version'], {
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const loaded = [...run.stderr.matchAll(/^load (file:\S+)$/gm)].map((m) => m[1]);
    expect(loaded.map((url) => path.relative(DIST, new URL(url!).pathname)).sort()).toEqual(['cli/main.js', 'cli/version.js']);
  });
});
