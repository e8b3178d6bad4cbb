import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { REDACTED, redactText, redactUrl, redactValue } from '../../src/redact.ts';
import { LocalTelemetry } from '../../src/telemetry/telemetry.ts';
import { createLocalPipeline } from '../../src/tui/model/local.ts';
import { runCli } from '../helpers/cli.ts';

const SECRET = 'Sup3rS3cretT0ken';

describe('redaction: the one helper for URLs, text and values', () => {
  it('URLs lose user, password and secret query parameters, and keep everything else', () => {
    expect(redactUrl(`https://operator:${SECRET}@stream.example.com/2/open_events?since_mtime=5`)).toBe('https://***@stream.example.com/2/open_events?since_mtime=5');
    // Meetup signed its stream URLs with sig_id/sig; OAuth and API keys travel as token/key/access_token
    expect(redactUrl(`https://stream.meetup.com/2/open_events?sig_id=12&sig=${SECRET}&since_count=10`)).toBe('https://stream.meetup.com/2/open_events?sig_id=***&sig=***&since_count=10');
    expect(redactUrl(`http://h/x?access_token=${SECRET}&api_key=${SECRET}&page=2`)).toBe('http://h/x?access_token=***&api_key=***&page=2');
    // A presigned S3 URL's credential, token and signature
    const presigned = `https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261128&X-Amz-Security-Token=${SECRET}&X-Amz-Signature=abc123`;
    const shown = redactUrl(presigned);
    expect(shown).not.toMatch(/AKIAIOSFODNN7EXAMPLE|Sup3r|abc123/);
    expect(shown).toContain('X-Amz-Algorithm=AWS4-HMAC-SHA256');
    // Nothing secret: the URL is returned as it was
    expect(redactUrl('http://127.0.0.1:8088/2/open_events?since_mtime=1425793345907')).toBe('http://127.0.0.1:8088/2/open_events?since_mtime=1425793345907');
  });

  it('text loses URLs secrets, access key ids, secret assignments and the values of this process\'s credentials', () => {
    const env = { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN' };
    const text = [
      `GET https://u:${SECRET}@h/p?token=${SECRET} failed`,
      'key id AKIAIOSFODNN7EXAMPLE in use',
      `aws_secret_access_key = ${SECRET}`,
      `Authorization: ${SECRET}`,
      `the signing key was ${env.AWS_SECRET_ACCESS_KEY} with token ${env.AWS_SESSION_TOKEN}`,
    ].join('\n');
    const out = redactText(text, env);
    expect(out).not.toMatch(new RegExp(`${SECRET}|AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI|IQoJb3JpZ2lu`));
    expect(out.split('\n')).toEqual([
      'GET https://***@h/p?token=*** failed',
      'key id *** in use',
      'aws_secret_access_key = ***',
      'Authorization: ***',
      'the signing key was *** with token ***',
    ]);
  });

  it('values: fields named like secrets lose their value, strings are redacted, data stays', () => {
    const value = { key: 'raw/2026/11/28/06/w1-1-9.ndjson.gz', sessionToken: SECRET, nested: [{ url: `http://h/?sig=${SECRET}`, count: 3 }], password: SECRET };
    expect(redactValue(value)).toEqual({ key: 'raw/2026/11/28/06/w1-1-9.ndjson.gz', sessionToken: REDACTED, nested: [{ url: 'http://h/?sig=***', count: 3 }], password: REDACTED });
    expect(value.sessionToken).toBe(SECRET); // a copy, the input is untouched
  });

  it('local telemetry lines never hold a secret', async () => {
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-redact-telemetry-'));
    try {
      new LocalTelemetry(lake).emit({ level: 'warn', component: 'stream', kind: 'log', msg: `connecting to https://u:${SECRET}@h/?key=${SECRET}`, data: { token: SECRET, url: `http://h/?token=${SECRET}` } });
      const day = (await readdir(path.join(lake, '_telemetry')))[0]!;
      const line = await readFile(path.join(lake, '_telemetry', day, 'stream.jsonl'), 'utf8');
      expect(line).not.toContain(SECRET);
      expect(JSON.parse(line)).toMatchObject({ msg: 'connecting to https://***@h/?key=***', data: { token: '***', url: 'http://h/?token=***' } });
    } finally {
      await rm(lake, { recursive: true, force: true });
    }
  });

  it('what the streamer prints and stores about its source is redacted', async () => {
    // Given a source that refuses the credentials in the URL
    const server = createServer((_req, res) => {
      res.writeHead(403);
      res.end('forbidden');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-redact-stream-'));
    try {
      const port = (server.address() as AddressInfo).port;
      const run = await runCli(['stream', '--lake', lake, '--url', `http://operator:${SECRET}@127.0.0.1:${port}/2/open_events?token=${SECRET}`]);
      // Then the error names the URL without its secrets, and nothing in the lake holds them
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`error: the source answered HTTP 403 for http://***@127.0.0.1:${port}/2/open_events?token=***`);
      expect(run.stdout + run.stderr).not.toContain(SECRET);
      for (const e of await readdir(lake, { recursive: true, withFileTypes: true })) {
        if (e.isFile()) expect(await readFile(path.join(e.parentPath, e.name), 'utf8'), e.name).not.toContain(SECRET);
      }
    } finally {
      server.close();
      await rm(lake, { recursive: true, force: true });
    }
  });
});

describe('a streamer the monitor starts keeps the source URL\'s secrets out of its job record and `ps`', () => {
  it('passes the URL in the environment, labels it redacted', async () => {
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-redact-job-'));
    const url = `http://127.0.0.1:9/2/open_events?token=${SECRET}`;
    const config = configSchema.parse({ lake, source: { url } });
    const { actions, runner } = await createLocalPipeline({ config, cwd: lake });
    let jobId: string | undefined;
    try {
      const started = await actions.startStreamer();
      expect(started.ok).toBe(true);
      jobId = started.jobId;
      // Wait until the step runs, then look at every process of the job and its record
      let record = await runner.get(started.jobId!);
      for (let i = 0; i < 200 && record?.pid === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        record = await runner.get(started.jobId!);
      }
      expect(record?.pid).toBeDefined();
      const files = await readdir(path.join(lake, '_state', 'jobs'));
      for (const f of files.filter((n) => n.endsWith('.json'))) expect(await readFile(path.join(lake, '_state', 'jobs', f), 'utf8')).not.toContain(SECRET);
      expect(record?.label).toBe('stream http://127.0.0.1:9/2/open_events?token=***');
      for (const pid of [record!.supervisorPid!, record!.pid!]) {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        expect(cmdline).not.toContain(SECRET);
      }
      // while the step itself streams from the URL of the config, token included
      const env = readFileSync(`/proc/${record!.pid!}/environ`, 'utf8').split('\0');
      expect(env).toContain(`OPENEVENTS_SOURCE_URL=${url}`);
    } finally {
      await actions.stopStreamer();
      if (jobId) await runner.wait(jobId, { timeoutMs: 30_000 }).catch(() => undefined);
      const log = (await readdir(path.join(lake, '_state', 'jobs'))).filter((n) => n.endsWith('.log'));
      for (const f of log) expect(await readFile(path.join(lake, '_state', 'jobs', f), 'utf8')).not.toContain(SECRET);
      await rm(lake, { recursive: true, force: true });
    }
  });
});
