import { hourIdOf } from '../../src/lake/layout.ts';
import type { ActionRequest, ActionRunner } from '../../src/tui/model/actions.ts';
import type { ActionResult, PipelineSources } from '../../src/tui/model/sources.ts';
import type { JobView, LakeHour, LogView, StreamView } from '../../src/tui/model/types.ts';

/** A fake pipeline for pane tests: each pane's data (or error) is set by the test. */
export interface FakePipeline {
  sources: PipelineSources;
  stream: StreamView | Error;
  lake: LakeHour[] | Error;
  jobs: JobView[] | Error;
  logs: LogView | Error;
}

export function fakeHours(nowMs: number, overrides: Record<number, Partial<LakeHour>> = {}): LakeHour[] {
  return Array.from({ length: 24 }, (_, i) => ({
    hour: hourIdOf(nowMs - (23 - i) * 3_600_000),
    files: 0,
    bytes: 0,
    closed: false,
    etl: 'waiting' as const,
    late: false,
    missing: false,
    ...overrides[i],
  }));
}

export function fakePipeline(nowMs: number): FakePipeline {
  const fake: FakePipeline = {
    stream: { state: 'stopped', history: [] },
    lake: fakeHours(nowMs),
    jobs: [],
    logs: { lines: [] },
    sources: undefined as unknown as PipelineSources,
  };
  const answer = <T>(value: T | Error): Promise<T> => (value instanceof Error ? Promise.reject(value) : Promise.resolve(value));
  fake.sources = {
    profile: 'local',
    location: '/tmp/lake',
    stream: { fetch: () => answer(fake.stream) },
    lake: { fetch: () => answer(fake.lake).then((hours) => ({ url: 'file:///tmp/lake', hours })) },
    jobs: { fetch: () => answer(fake.jobs) },
    logs: { fetch: () => answer(fake.logs) },
  };
  return fake;
}

/** An action runner that records what it was asked. */
export function recordingRunner(result: ActionResult = { ok: true, message: 'started (job j1)', jobId: 'j1' }): ActionRunner & {
  ran: ActionRequest[];
  refused: Array<[ActionRequest, string]>;
} {
  const ran: ActionRequest[] = [];
  const refused: Array<[ActionRequest, string]> = [];
  return {
    ran,
    refused,
    run: async (request) => {
      ran.push(request);
      return result;
    },
    refuse: (request, why) => void refused.push([request, why]),
  };
}

/** Waits until `check` passes (frames are async): no fixed sleeps. */
export async function waitFor(check: () => boolean | undefined, what: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
