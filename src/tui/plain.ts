import { bytes, compact, count, duration } from './format.ts';
import { backfillTargets } from './model/lake-grid.ts';
import { lagMs, type PaneData, type PipelineSnapshot } from './model/types.ts';
import { hourDetail } from './state/lake-view.ts';
import { transportLine } from './state/stream-view.ts';

/**
 * The monitor's model as plain text, for `status` and for `monitor` when not on a terminal.
 * Everything here was sanitised as it entered the model.
 */

/** One line per refresh: stream, lake, jobs, and the alerts firing. */
export function plainLine(s: PipelineSnapshot): string {
  const t = new Date(s.atMs).toISOString().slice(0, 19) + 'Z';
  const alerts = s.alerts?.data?.alerts.length ? ` | ALERTS ${s.alerts.data.alerts.map((a) => `${a.rule} ${a.subject}`).join(', ')}` : '';
  return `${t} stream ${streamSummary(s)} | lake ${lakeSummary(s)} | jobs ${jobsSummary(s)}${alerts}`;
}

/** A multi-line report of everything the monitor shows. */
export function statusText(s: PipelineSnapshot, logLines = 10): string {
  const out: string[] = [];
  out.push(`openevents status · ${s.profile} · lake ${s.lake} · ${new Date(s.atMs).toISOString()}`);
  out.push('');
  if (s.alerts) {
    const alerts = s.alerts.data?.alerts;
    out.push(`Alerts${stale(s.alerts)}: ${alerts ? (alerts.length === 0 ? 'none' : `${alerts.length} firing`) : 'unknown'}`);
    for (const a of alerts ?? []) out.push(`  ALERT ${a.rule}: ${a.message}`);
    out.push('');
  }
  out.push(`Stream${stale(s.panes.stream)}: ${streamSummary(s)}`);
  const st = s.panes.stream.data;
  if (st) {
    out.push(`  events ${count(st.events)}  bytes ${bytes(st.bytes)}  lag ${duration(lagMs(st, s.atMs))}`);
    out.push(`  reconnects ${count(st.reconnects)}  invalid ${count(st.invalid)}  duplicates ${count(st.duplicates)}`);
    const transport = transportLine(st, s.atMs);
    if (transport) out.push(`  ${transport}`);
    if (st.host) out.push(`  streamer instance ${st.host.id} ${st.host.state}`);
  }
  out.push('');
  out.push(`Lake${stale(s.panes.lake)}: ${lakeSummary(s)}`);
  for (const hour of s.panes.lake.data?.hours ?? []) {
    if (hour.files > 0 || hour.missing || hour.inFlight) out.push(`  ${hourDetail(hour)}`);
  }
  out.push('');
  out.push(`Jobs${stale(s.panes.jobs)}: ${jobsSummary(s)}`);
  for (const job of (s.panes.jobs.data ?? []).slice(0, 10)) {
    const took = job.startedAtMs !== undefined ? duration((job.endedAtMs ?? s.atMs) - job.startedAtMs) : '–';
    out.push(`  ${job.state.padEnd(9)} ${job.label}  ${took}  ${job.id}${job.reason ? `\n    why: ${job.reason}` : ''}`);
  }
  out.push('');
  out.push(`Logs${stale(s.panes.logs)}:`);
  for (const l of (s.panes.logs.data?.lines ?? []).slice(-logLines)) out.push(`  ${l.ts} ${l.level.toUpperCase().padEnd(5)} ${l.component} ${l.msg}`);
  return out.join('\n');
}

function stale(pane: PaneData<unknown>): string {
  return pane.stale ? ` (STALE${pane.error ? `: ${pane.error}` : ''})` : '';
}

function streamSummary(s: PipelineSnapshot): string {
  const st = s.panes.stream.data;
  if (!st) return s.panes.stream.error ? `unavailable (${s.panes.stream.error})` : 'unknown';
  return `${st.state} ${compact(st.eventsPerSec)} ev/s events ${count(st.events)} reconnects ${count(st.reconnects)} invalid ${count(st.invalid)} dup ${count(st.duplicates)} lag ${duration(lagMs(st, s.atMs))}${st.quiet && st.statsAtMs !== undefined ? ` (no stats for ${duration(s.atMs - st.statsAtMs)})` : st.note ? ` (${st.note})` : ''}`;
}

function lakeSummary(s: PipelineSnapshot): string {
  const hours = s.panes.lake.data?.hours;
  if (!hours) return s.panes.lake.error ? `unavailable (${s.panes.lake.error})` : 'unknown';
  const withData = hours.filter((h) => h.files > 0);
  const by = (state: string): number => withData.filter((h) => h.etl === state).length;
  return `24h: ${withData.length} hours with raw data, ${count(withData.reduce((n, h) => n + (h.records ?? 0), 0))} records, done ${by('done')} running ${by('running')} failed ${by('failed')} waiting ${by('waiting')}, late ${hours.filter((h) => h.late).length}, missing ${hours.filter((h) => h.missing).length}, backfill ${backfillTargets(hours).length}`;
}

function jobsSummary(s: PipelineSnapshot): string {
  const jobs = s.panes.jobs.data;
  if (!jobs) return s.panes.jobs.error ? `unavailable (${s.panes.jobs.error})` : 'unknown';
  const running = jobs.filter((j) => j.state === 'running' || j.state === 'pending');
  const failed = jobs.filter((j) => j.state === 'failed');
  return `${running.length} running${running.length ? ` (${running.map((j) => j.label).join(', ')})` : ''}, ${failed.length} failed, ${jobs.length} total`;
}
