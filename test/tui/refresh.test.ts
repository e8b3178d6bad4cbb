import { afterEach, describe, expect, it } from 'vitest';
import { PaneRefresher, type RefreshName } from '../../src/tui/model/refresh.ts';
import { PartialFetchError } from '../../src/tui/model/snapshot.ts';
import type { PaneData } from '../../src/tui/model/types.ts';
import { fakePipeline, waitFor } from '../helpers/tui-fake.ts';

let refresher: PaneRefresher | undefined;
afterEach(() => refresher?.stop());

describe('pane refresher', () => {
  it('refreshes each pane on its own: a source that hangs goes stale alone, is not asked again while it hangs, and counts when it answers', async () => {
    // Given a pipeline whose lake source never answers until released
    const fake = fakePipeline(Date.now());
    let lakeCalls = 0;
    let release: (() => void) | undefined;
    fake.sources.lake = {
      fetch: () => {
        lakeCalls += 1;
        return new Promise((resolve) => (release = () => resolve({ url: 's3://b/lake', hours: [] })));
      },
    };
    let streamCalls = 0;
    const stream = fake.sources.stream;
    fake.sources.stream = { fetch: () => ((streamCalls += 1), stream.fetch()) };
    const seen: Array<[RefreshName, PaneData<unknown>]> = [];
    refresher = new PaneRefresher({ sources: fake.sources, refreshMs: 20, timeoutMs: 100, onPane: (name, pane) => seen.push([name, pane]) });

    // When it runs for a while
    refresher.start();
    await waitFor(() => seen.filter(([n, p]) => n === 'lake' && p.stale).length >= 3, () => `3 stale lake updates, got ${JSON.stringify(seen.filter(([n]) => n === 'lake'))}`);

    // Then the lake pane is stale with "no answer", fetched once, while the stream pane kept refreshing
    const lake = seen.filter(([n]) => n === 'lake').map(([, p]) => p);
    expect(lake.every((p) => p.stale && /no answer in 0.1s/.test(p.error ?? ''))).toBe(true);
    expect(lakeCalls).toBe(1);
    expect(streamCalls).toBeGreaterThan(5);
    expect(seen.filter(([n, p]) => n === 'stream' && !p.stale).length).toBeGreaterThan(5);

    // When the hung fetch finally answers, the pane is fresh, and the source is asked again later
    release!();
    await waitFor(() => seen.some(([n, p]) => n === 'lake' && !p.stale), () => 'a fresh lake pane');
    await waitFor(() => lakeCalls >= 2, () => 'a second lake fetch');
  });

  it('shows the fresh part of a partial answer, marked stale with the error', async () => {
    const fake = fakePipeline(Date.now());
    fake.sources.jobs = { fetch: () => Promise.reject(new PartialFetchError([{ id: 'a', kind: 'etl', label: 'etl', state: 'running', runner: 'local' }], 'emr: connect ECONNREFUSED')) };
    const seen: Array<[RefreshName, PaneData<unknown>]> = [];
    refresher = new PaneRefresher({ sources: fake.sources, refreshMs: 1000, onPane: (name, pane) => seen.push([name, pane]) });
    refresher.start();
    await waitFor(() => seen.some(([n]) => n === 'jobs'), () => 'the jobs pane');
    const [, jobs] = seen.find(([n]) => n === 'jobs')!;
    expect(jobs).toMatchObject({ stale: true, error: 'emr: connect ECONNREFUSED', data: [{ id: 'a' }] });
    expect(jobs.updatedAtMs).toBeTypeOf('number');
  });
});
