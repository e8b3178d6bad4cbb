import { openCurated, queryRows } from '../etl/curated.ts';
import type { ObjectStore } from '../lake/store.ts';
import { CATEGORY_LABEL, LABELLED_CATEGORY_IDS, type LabelledDoc } from './labels.ts';
import { eventText, htmlToText } from './text.ts';

/**
 * Where labelled descriptions come from: the curated tables (training, the default evaluation)
 * or a file of raw open_events lines (evaluating on data the lake never saw).
 */

const LABELLED_SQL = `
  SELECT e.event_id, e.name, e.description_text, e.group_id, g.category_id, coalesce(nullif(g.state, ''), g.country) AS region
  FROM events e JOIN groups g USING (group_id)
  WHERE g.category_id IN (${LABELLED_CATEGORY_IDS.join(', ')})
  ORDER BY e.event_id`;

/** Events of outdoors-adventure and tech groups in the curated tables, one per event id. */
export async function loadLabelledDocs(store: ObjectStore): Promise<LabelledDoc[]> {
  const connection = await openCurated(store);
  try {
    const rows = await queryRows(connection, LABELLED_SQL);
    return rows.map((row) => ({
      eventId: String(row.event_id),
      groupId: Number(row.group_id),
      label: CATEGORY_LABEL.get(Number(row.category_id))!,
      text: eventText(row.name as string | null, row.description_text as string | null),
      ...(typeof row.region === 'string' && row.region !== '' ? { region: row.region.toUpperCase() } : {}),
    }));
  } finally {
    connection.closeSync();
  }
}

/** How many labelled events the curated tables hold (what the demo checks before training). */
export async function countLabelledEvents(store: ObjectStore): Promise<number> {
  const connection = await openCurated(store);
  try {
    const rows = await queryRows(
      connection,
      `SELECT count(*) AS n FROM events e JOIN groups g USING (group_id) WHERE g.category_id IN (${LABELLED_CATEGORY_IDS.join(', ')})`,
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    connection.closeSync();
  }
}

/** What reading a raw file found besides the labelled docs. */
export interface RawReadStats {
  lines: number;
  /** Lines that are not a JSON object with an id (header lines, a cut-off last line). */
  unparsable: number;
  /** Records of other categories or none. */
  unlabelled: number;
  /** Later versions of an event id already read (the newest mtime wins). */
  duplicates: number;
}

/**
 * Labelled docs from raw open_events NDJSON (the stream's own lines): records whose
 * group.category.id is 23 or 34, HTML descriptions turned to text, one doc per event id
 * (the version with the highest mtime). Lines that do not parse are counted, not fatal.
 */
export function labelledDocsFromRaw(ndjson: string): { docs: LabelledDoc[]; stats: RawReadStats } {
  const stats: RawReadStats = { lines: 0, unparsable: 0, unlabelled: 0, duplicates: 0 };
  const newest = new Map<string, { mtime: number; doc: LabelledDoc }>();
  for (const line of ndjson.split('\n')) {
    if (line.trim() === '') continue;
    stats.lines++;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      stats.unparsable++;
      continue;
    }
    if (typeof record !== 'object' || record === null || !('id' in record)) {
      stats.unparsable++;
      continue;
    }
    const r = record as {
      id: unknown;
      name?: unknown;
      description?: unknown;
      mtime?: unknown;
      group?: { id?: unknown; state?: unknown; country?: unknown; category?: { id?: unknown } | null } | null;
    };
    const label = CATEGORY_LABEL.get(Number(r.group?.category?.id));
    if (label === undefined) {
      stats.unlabelled++;
      continue;
    }
    const eventId = String(r.id);
    const mtime = Number(r.mtime ?? 0);
    const previous = newest.get(eventId);
    if (previous) {
      stats.duplicates++;
      if (previous.mtime > mtime) continue;
    }
    const description = typeof r.description === 'string' ? htmlToText(r.description) : '';
    const region = [r.group?.state, r.group?.country].find((v): v is string => typeof v === 'string' && v !== '');
    newest.set(eventId, {
      mtime,
      doc: {
        eventId,
        groupId: Number(r.group?.id ?? 0),
        label,
        text: eventText(typeof r.name === 'string' ? r.name : '', description),
        ...(region !== undefined ? { region: region.toUpperCase() } : {}),
      },
    });
  }
  const docs = [...newest.values()].map((v) => v.doc).sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  return { docs, stats };
}

/**
 * The id and classifier text of one raw event line (any category): name + plain-text description.
 * Undefined for a line that is not a JSON object with a name or a description.
 */
export function eventTextOfLine(line: string): { id?: string; text: string } | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const r = record as { id?: unknown; name?: unknown; description?: unknown };
  const name = typeof r.name === 'string' ? r.name : '';
  const description = typeof r.description === 'string' ? htmlToText(r.description) : '';
  if (name === '' && description === '') return undefined;
  return { ...(r.id !== undefined && r.id !== null ? { id: String(r.id) } : {}), text: eventText(name, description) };
}
