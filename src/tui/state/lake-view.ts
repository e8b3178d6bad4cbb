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
  const flag = hour.missing ? (compactCell ? '?' : 'missing') : hour.late ? (compactCell ? '!' : 'late') : '';
  if (hour.files === 0) return fit(`${mark}${hh} ${compactCell ? '·' : '· no data'} ${flag}`, width);
  const records = hour.records === undefined ? '?' : compact(hour.records);
  const text = compactCell
    ? `${mark}${hh} ${SHORT_STATE[hour.etl].padEnd(4)} ${records.padStart(5)} ${bytes(hour.bytes).padStart(5)} ${flag}`
    : `${mark}${hh} ${FULL_STATE[hour.etl].padEnd(7)} ${`${hour.files}f`.padStart(4)} ${records.padStart(6)} ${bytes(hour.bytes).padStart(5)} ${flag}`;
  return fit(text, width);
}

/** The detail line of the selected hour: everything the cell had no room for. */
export function hourDetail(hour: LakeHour): string {
  if (hour.files === 0) return `${hour.hour}  no raw data${hour.missing ? '  MISSING: the stream wrote none' : ''}`;
  const parts = [
    hour.hour,
    `${count(hour.files)} file${hour.files === 1 ? '' : 's'}`,
    `${hour.records === undefined ? '?' : count(hour.records)} records`,
    bytes(hour.bytes),
    hour.closed ? 'closed' : 'open',
    `ETL ${hour.etl}`,
  ];
  if (hour.late) parts.push('LATE: hour over, never processed');
  if (hour.etlReason) parts.push(`why: ${hour.etlReason}`);
  return parts.join('  ');
}

/** The grid in column-major order (oldest top-left, newest bottom-right): rows of cells. */
export function gridRowsOf<T>(items: readonly T[], rows: number): T[][] {
  const out: T[][] = Array.from({ length: rows }, () => []);
  items.forEach((item, i) => out[i % rows]?.push(item));
  return out;
}
