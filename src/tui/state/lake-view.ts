import { bytes, compact, count, fit } from '../format.ts';
import type { LakeHour } from '../model/types.ts';

const FULL_STATE: Record<LakeHour['etl'], string> = { waiting: 'waiting', running: 'running', done: 'done', failed: 'FAILED' };
const SHORT_STATE: Record<LakeHour['etl'], string> = { waiting: 'wait', running: 'run', done: 'done', failed: 'FAIL' };

/** The colour that says an hour's state (text says it too). */
export function hourTone(hour: LakeHour): string {
  if (hour.etl === 'failed') return 'red';
  if (hour.etl === 'running') return 'cyan';
  if (hour.missing) return 'magenta';
  if (hour.late) return 'yellow';
  if (hour.etl === 'done') return 'green';
  return hour.files > 0 ? 'white' : 'gray';
}

/**
 * One grid cell: marker, hour of day, ETL state, files, records, bytes, flag. Hours without raw
 * data show a dot (and 'missing' when data should be there).
 */
export function lakeCell(hour: LakeHour, selected: boolean, compactCell: boolean, width: number): string {
  const mark = selected ? '▶' : ' ';
  const hh = hour.hour.slice(11, 13);
  const inFlight = hour.inFlight ?? 0;
  const flag = hour.missing ? (compactCell ? '?' : 'missing') : hour.late ? (compactCell ? '!' : 'late') : inFlight > 0 ? (compactCell ? '+' : 'fill') : '';
  if (hour.files === 0 && inFlight > 0) {
    // The open hour before its first file is published: what the streamer holds for it.
    const held = `+${compact(inFlight)}`;
    return fit(compactCell ? `${mark}${hh} fill ${held.padStart(5)}` : `${mark}${hh} filling ${'0f'.padStart(4)} ${held.padStart(6)}`, width);
  }
  if (hour.files === 0) return fit(`${mark}${hh} ${compactCell ? '·' : '· no data'} ${flag}`, width);
  // The open hour counts what is in its objects and what the streamer holds for it.
  const records = hour.records === undefined ? '?' : compact(hour.records + inFlight);
  const text = compactCell
    ? `${mark}${hh} ${SHORT_STATE[hour.etl].padEnd(4)} ${records.padStart(5)} ${bytes(hour.bytes).padStart(5)} ${flag}`
    : `${mark}${hh} ${FULL_STATE[hour.etl].padEnd(7)} ${`${hour.files}f`.padStart(4)} ${records.padStart(6)} ${bytes(hour.bytes).padStart(5)} ${flag}`;
  return fit(text, width);
}

/** The detail line of the selected hour: everything the cell had no room for. */
export function hourDetail(hour: LakeHour): string {
  const held = hour.inFlight ? `+${count(hour.inFlight)} received, not written yet` : '';
  if (hour.files === 0) return `${hour.hour}  ${held ? `open, no file yet  ${held}` : 'no raw data'}${hour.missing ? '  MISSING: the stream wrote none' : ''}`;
  const parts = [
    hour.hour,
    `${count(hour.files)} file${hour.files === 1 ? '' : 's'}`,
    `${hour.records === undefined ? '?' : count(hour.records)} records`,
    bytes(hour.bytes),
    hour.closed ? 'closed' : 'open',
  ];
  if (held) parts.push(held);
  if (hour.firstArrivalMs !== undefined && hour.lastArrivalMs !== undefined) parts.push(`arrived ${clock(hour.firstArrivalMs)}–${clock(hour.lastArrivalMs)}`);
  parts.push(`ETL ${hour.etl}`);
  if (hour.late) parts.push('LATE: hour over, never processed');
  if (hour.etlReason) parts.push(`why: ${hour.etlReason}`);
  return parts.join('  ');
}

/** 'HH:MM:SSZ' of a time. */
function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`;
}

/** The grid in column-major order (oldest top-left, newest bottom-right): rows of cells. */
export function gridRowsOf<T>(items: readonly T[], rows: number): T[][] {
  const out: T[][] = Array.from({ length: rows }, () => []);
  items.forEach((item, i) => out[i % rows]?.push(item));
  return out;
}
