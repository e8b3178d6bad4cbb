import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/moto.ts';
import { underCi } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';

const exec = promisify(execFile);
const CHECK = path.join(ROOT, 'provisioning/check.sh');

/** Runs provisioning/check.sh; never throws, returns exit code and output. */
async function check(args: string[] = []): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec('bash', [CHECK, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const tmp = tempDirs('oe-provisioning-');
let dir: string;
beforeAll(() => {
  dir = tmp();
});

/** The one line check.sh prints for a check, e.g. "check: ok shellcheck: 6 script(s)". */
function verdict(out: string, name: string): string {
  return out.split('\n').find((l) => l.startsWith('check: ') && l.includes(name)) ?? `(no line for ${name} in: ${out})`;
}

describe('provisioning checks (provisioning/check.sh)', { timeout: 300_000 }, () => {
  it('the project passes ShellCheck, systemd-analyze verify, cloud-init schema and vagrant validate', async () => {
    const { code, out } = await check();
    expect(code, out).toBe(0);
    // Each ran, or said in one line why it could not: under CI only because apt has no package of the tool here
    for (const name of ['shellcheck', 'systemd units', 'cloud-init schema', 'vagrant validate']) {
      const line = verdict(out, name);
      expect(line, out).toMatch(underCi() ? /^check: (ok |skipped .*this machine's apt sources have no \S+ package)/ : /^check: (ok|skipped) /);
      if (line.startsWith('check: skipped')) process.stderr.write(`${line}\n`);
    }
  });

  it('each check fails on a broken input', async () => {
    const files = {
      script: path.join(dir, 'bad.sh'),
      unit: path.join(dir, 'bad.service'),
      userData: path.join(dir, 'bad-user-data.yaml'),
      vagrant: path.join(dir, 'vagrant'),
    };
    // An unquoted variable in rm -rf: the classic
    await writeFile(files.script, '#!/usr/bin/env bash\ndir=$1\nrm -rf $dir/*\n');
    // A misspelt restart policy: systemd ignores the line (and exits 0) but says so
    await writeFile(files.unit, '[Unit]\nDescription=bad\n[Service]\nExecStart=/usr/bin/openevents stream\nRestart=alwayz\n[Install]\nWantedBy=multi-user.target\n');
    // packages must be a list, runcmd entries lists or strings
    await writeFile(files.userData, '#cloud-config\npackages: awscli\nruncmd: 5\n');
    await mkdir(files.vagrant);
    await writeFile(path.join(files.vagrant, 'Vagrantfile'), 'Vagrant.configure("2") do |config|\n  config.vm.box = "debian/bookworm64"\n  config.vm.hostnme = "x"\nend\n');

    const results = await Promise.all([
      check(['shellcheck', files.script]),
      check(['units', files.unit]),
      check(['user-data', files.userData]),
      check(['vagrant', files.vagrant]),
    ]);
    const names = ['shellcheck', 'systemd units', 'cloud-init schema', 'vagrant validate'];
    results.forEach(({ code, out }, i) => {
      const line = verdict(out, names[i]!);
      if (line.startsWith('check: skipped')) return; // the tool is not installed here (and this is not CI)
      expect(line, out).toMatch(/^check: FAIL /);
      expect(code, out).toBe(1);
    });
    if (!verdict(results[0]!.out, 'shellcheck').includes('skipped')) expect(results[0]!.out).toContain('SC2086');
    if (!verdict(results[1]!.out, 'systemd').includes('skipped')) expect(results[1]!.out).toContain('alwayz');
    if (!verdict(results[2]!.out, 'cloud-init').includes('skipped')) expect(results[2]!.out).toMatch(/packages: 'awscli' is not of type 'array'/);
  });
});
