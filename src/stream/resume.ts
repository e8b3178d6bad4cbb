import { getJson, type ObjectStore } from '../lake/store.ts';
import { STATE } from '../lake/layout.ts';

/**
 * Where to resume: what the streamer asks the source for on each (re)connection so that every
 * record it has not received — or received but not yet made durable — comes again, and so that
 * a catch-up always makes progress, however little each connection carries.
 *
 * The protocol has two ways back: `since_mtime=<ms>` (every published record with mtime ≥ ms)
 * and `since_count=<n>` (the last n published). mtime is not monotonic — after a reconnect the
 * real stream mixes in records hours or days old — so no mtime window both covers every record
 * that was in flight and stays small; and a catch-up by mtime re-sends the whole window each
 * time, so when a connection carries less than the window it never gets past it (issue 15's
 * livelock). Positions have neither problem, so the planner works in positions:
 *
 * - Every record stored gets a coordinate on the source's timeline: the next one after the record
 *   before it in the same answer. The frontier is the highest coordinate; nothing below it is
 *   missing.
 * - A reconnect asks `since_count` = how many positions it expects beyond the frontier — what a
 *   cut left in flight past the last record received (learned from earlier reconnects), plus what
 *   the source published while it was away (its rate × the time away, once it was seen to publish
 *   while nobody reads), or the rest of a catch-up a cut interrupted if that is more (a source
 *   whose catch-up ends within its socket buffers goes on into live records) — plus a margin.
 * - An answer must prove it reaches back to the frontier: its first record, or two in a row, were
 *   stored before (one line copied from earlier proves nothing); after a restart with nothing
 *   durable, the first record the previous run received must show up. Until then its records
 *   are set aside, not stored — they may lie beyond a gap, and the answer that proves itself
 *   brings them again — so every record stored lies within the frontier. The proving record's
 *   coordinate says where the answer started: the planner learns how many positions a cut really
 *   left in flight and, if the answer is cut too, exactly how much of it is still to come. Every
 *   connection that carries more than the margin moves the frontier, so a catch-up always ends.
 * - A request never reaches back beyond the first record this run stored (nothing before it is
 *   needed), so an answer is never cut short by the start of the source's history: every answer
 *   is as long as asked, and where the proof places it tells exactly where the source's end was;
 *   nor more than REACH_BACK positions before the frontier, so its first record is remembered.
 * - An answer whose first record is new started beyond the frontier: it is dropped at once (a
 *   source that publishes as it is read publishes what it sends ahead: reading on would only push
 *   its end further away) and asked again further back — first by what recent misses fell short
 *   (5× at once re-downloaded ~10,000 records per miss through a proxy), then 4× as much — within
 *   those bounds; after
 *   three tries not held back by them (or twelve in all) it falls back to
 *   `since_mtime` (a source that does not serve since_count that far). Asking too little costs a
 *   connection, never a record.
 * - By mtime (that fallback, or a checkpoint from before resume points) it asks `since_mtime` =
 *   highest − window and halves the window after a connection that brought nothing new, so that
 *   catch-up ends too; records in flight older than the window are then the protocol's limit.
 *
 * The resume point (`_state/stream/<writer>.resume.json`, written at most half a second after data
 * arrives, independent of the sink's rotation) names the last durable records (or, before
 * anything is durable, the first records received) and how many positions followed them, so a
 * restart after `kill -9` asks for that much again and proves the answer the same way.
 */

/** The resume point a restart starts from (the checkpoint says what is durable; this, what to fetch again). */
export interface ResumePoint {
  version: 1;
  writer: string;
  /** The checkpoint it extends: records below this sequence number are durable. */
  nextSeq: number;
  /**
   * Where a restart picks up, oldest first (up to 4 consecutive positions): the last durable
   * records (`anchorIs: 'last-durable'`: everything after them is needed),
   * or, before anything was durable, the first records received (`'first-needed'`: from them on).
   */
  anchor: Array<{ id: string; mtime: number }>;
  anchorIs: 'last-durable' | 'first-needed';
  /** Timeline positions received after the last anchor record ('last-durable') or from the first one on ('first-needed'). */
  behind: number;
  /** The lowest mtime among records not yet durable, null if none (a since_mtime resume must reach it). */
  lowestPendingMtime: number | null;
  /** The highest mtime received, null before the first. */
  highestMtime: number | null;
  /** New positions per second on the live stream, as observed. */
  ratePerSec: number;
  /** New positions per second the source publishes while nobody reads (0 when it was never seen to). */
  publishRatePerSec: number;
  /** Positions a cut connection left in flight, as learned. */
  inflight: number;
  /** 'count' (since_count) or 'mtime' (since_mtime, after the source did not serve since_count far enough). */
  mode: ResumeMode;
  /** When it was written (ms since the epoch). */
  atMs: number;
}

export type ResumeMode = 'count' | 'mtime';

/** The query a connection asks with: nothing (from now on), since_count or since_mtime. */
export type ResumeQuery = { sinceCount: number } | { sinceMtime: number } | Record<string, never>;

/** The resume point's key in the lake. */
export function resumeKey(writer: string): string {
  return `${STATE}/stream/${writer}.resume.json`;
}

export function loadResumePoint(store: ObjectStore, writer: string): Promise<ResumePoint | undefined> {
  return getJson<ResumePoint>(store, resumeKey(writer));
}

export function saveResumePoint(store: ObjectStore, point: ResumePoint): Promise<void> {
  return store.put(resumeKey(point.writer), JSON.stringify(point) + '\n', { contentType: 'application/json' });
}

/**
 * Asked after a restart from a run that started afresh and died before its first resume point
 * (within milliseconds of its first data): it cannot have received more than that, but nothing
 * tells where it began.
 */
const BLIND_RESTART_COUNT = 10_000;
/**
 * Positions assumed in flight at a cut before any reconnect has measured it: socket buffers on a
 * fast path hold megabytes (~2,000 records of 2.4 KB in 5 MB). Too many costs a first re-download
 * on a slow stream; too few, a round (the answer is not proven and is asked again further back).
 */
const FIRST_INFLIGHT_GUESS = 2048;
/**
 * Unproven catch-ups in a row before giving up on since_count (asked as far back as wanted, or
 * at all when held back by the first record stored), and how much further back each asks.
 */
const MAX_ESCALATIONS = 3;
const MAX_FAILURES = 12;
const ESCALATION = 4;
/** Coordinates of the most recent positions, to place an answer's first records (a power of two). */
const RECENT_POSITIONS = 1 << 16;
/**
 * How far before the frontier an answer may start: its first record must be known to prove it,
 * and the dedupe window keeps the 20,000 ids seen most recently whatever their mtime.
 */
const REACH_BACK = 16_384;
/** Time away before an unproven answer that makes its proven successor evidence of a source publishing meanwhile. */
const AWAY_EVIDENCE_MS = 250;
/**
 * How many recent cuts the in-flight estimate is the most of. What a cut leaves in flight spreads
 * evenly and unpredictably (through a proxy: from a few dozen to ~3,500 records), so the most of
 * the last few is an upper quantile: of 3, ~75 %; of 5, ~83 %. Through a cutting proxy the last 3
 * re-sent 15 % fewer records than the last 5 (medians of 7 paired bench runs, 112,000 against
 * 132,000 per 200,000 events) with as many reconnects: the misses it adds cost less than the
 * records the higher quantile asks again at every cut.
 */
const MISSED_HISTORY = 3;
/** The since_mtime window never shrinks below this. */
const MIN_WINDOW_MS = 1000;

/** A record's line: its length in bytes and, when the scan found them, where its id and mtime values start. */
export interface LineShape {
  length: number;
  idAt?: number;
  mtimeAt?: number;
}

const UNKNOWN_SHAPE: LineShape = { length: 0 };

/** Progress of the current connection's answer. */
interface Answer {
  /** since_count asked (Infinity without one: no catch-up to follow). */
  count: number;
  /** Records received in this answer (positions, as far as can be told). */
  received: number;
  /** The frontier when it was asked. */
  frontierBefore: number;
  /** Coordinate of its first record, once known (after the proof). */
  start: number | undefined;
  /** Shown to reach back far enough (or needs not: no since_count). */
  proven: boolean;
  /** The catch-up part is over (received ≥ count). */
  caughtUp: boolean;
  /** Before the proof: the previous record had been received before. */
  lastKnown: boolean;
  /** It answers a restart (what it brings again was not in flight: nothing to learn from it). */
  restart: boolean;
  /** Asked for less than wanted, held back by the first record stored this run. */
  held: boolean;
  /** The time away before it, ms. */
  awayMs: number;
}

export interface ResumePlannerOptions {
  resumeWindowMs: number;
  now: () => number;
}

/** A record with its coordinate on the timeline. */
interface Placed {
  id: string;
  mtime: number;
  coord: number;
}

/** What a restart must find before it trusts an answer (the previous run's resume point). */
interface Restored {
  anchor: Array<{ id: string; mtime: number }>;
  keys: Set<string>;
  firstNeeded: boolean;
  behind: number;
  atMs: number;
  lowestPendingMtime: number | null;
  /** Positions received since the restart, before the proof (they count into behind if this run dies too). */
  received: number;
}

/** One per streamer run; see the module comment. */
export class ResumePlanner {
  private mode: ResumeMode = 'count';
  /** Nothing to resume from: connect without since_*. */
  private fresh = true;
  /** The highest coordinate received without a gap before it. */
  frontier = 0;
  /**
   * The coordinate of the first record stored in this run (0 before it). Nothing before it is
   * needed, so a request never reaches further back: an answer asked for more than the source
   * published would start at the source's beginning, shorter than asked — no telling what it
   * says about the source's end, and a catch-up that re-sends the whole stream each time.
   */
  private origin = 0;
  /** Coordinate of the last record of the current answer. */
  private cursor = 0;
  private answer: Answer | undefined;
  /** Positions of an interrupted catch-up still to come beyond the frontier. */
  private remaining = 0;
  /**
   * Where the last proven answer ended: the coordinate of its last record received, and the end of its
   * catch-up (0 without one). What the source had sent beyond the cut lies past the first; past the
   * second too when the catch-up's rest was shorter than the socket buffers. `advanced`: it moved the frontier.
   */
  private cut: { at: number; catchupEnd: number; advanced: boolean } | undefined;
  /** since_count to ask next after an unproven catch-up, 0 when none. */
  private escalateTo = 0;
  /**
   * The source's last published record lies at least this far: where a proven answer's catch-up
   * ended, or beyond what an answer that did not reach back asked for.
   */
  private endAtLeast = 0;
  private escalations = 0;
  private failures = 0;
  /** since_count of the last unproven answer: the cut before it left more than that in flight. */
  private failedCount = 0;
  /** The time away before the first of the unproven answers in a row. */
  private awayBeforeFailures = 0;
  /** The last query asked for less than wanted (see reachable). */
  private held = false;
  /** After a restart, until an answer shows its anchor. */
  private restored: Restored | undefined;
  /** After a restart from a run that died before naming its first record: ask generously, once. */
  private blind = false;
  /** The last records of the durable part without gaps, and the first records of a run that has none yet. */
  private tail: Placed[] = [];
  private head: Placed[] = [];
  /** Learned: positions a cut had in flight, with the time away they were measured over. */
  private missedHistory: Array<{ missed: number; awayMs: number }> = [];
  /** Learned: how far beyond an unproven answer's since_count its proven successor found the source's end. */
  private overFailedHistory: number[] = [];
  private inflight = FIRST_INFLIGHT_GUESS;
  /** The most a cut has been seen to leave in flight in this run (never less than the first guess): what a miss may make the source send ahead. */
  private inflightCeiling = FIRST_INFLIGHT_GUESS;
  private disconnectedAtMs: number | undefined;
  private awayMs = 0;
  /** New positions per second on the live stream (moving average). */
  private rate = 0;
  /**
   * Positions the source publishes per second while nobody reads: 0 until an answer showed the
   * source published more than expected (a paced stream), then the live rate. A source that only
   * publishes as fast as it is read (a replay at full speed) never shows it, and asking it for
   * rate × time away would overshoot — past everything it ever published.
   */
  private publishRate = 0;
  private rateSample = { atMs: 0, frontier: 0 };
  private highest = Number.NEGATIVE_INFINITY;
  private windowMs: number;
  /**
   * Ring of the most recent positions received without a gap: id, mtime, coordinate, the line's
   * length in bytes, and where in it the id's and the mtime's values start (0 when not known).
   */
  private readonly ringIds: string[] = new Array<string>(RECENT_POSITIONS);
  private readonly ringMtimes = new Float64Array(RECENT_POSITIONS);
  private readonly ringCoords = new Float64Array(RECENT_POSITIONS);
  private readonly ringLengths = new Uint32Array(RECENT_POSITIONS);
  private readonly ringIdAt = new Uint32Array(RECENT_POSITIONS);
  private readonly ringMtimeAt = new Uint32Array(RECENT_POSITIONS);
  /** What expectedNext returns (one object, reused: it is asked once per line). */
  private readonly next = { id: '', mtime: 0, length: 0, idAt: 0, mtimeAt: 0 };
  private ringSize = 0;
  private ringHead = 0;
  /** Catch-ups that could not be proven even asking further back (a possible gap). */
  gaps = 0;
  /** Why the current connection must be dropped and asked again, once set. */
  reconnectReason: string | undefined;

  constructor(private readonly o: ResumePlannerOptions) {
    this.windowMs = o.resumeWindowMs;
  }

  /** Start-up: the previous run's resume point (and the checkpoint's highest durable mtime), if any. */
  restore(point: ResumePoint | undefined, highestDurableMtime: number | null): void {
    if (highestDurableMtime !== null) this.highest = highestDurableMtime;
    if (point && point.anchor.length === 0 && highestDurableMtime === null) {
      // A run that started afresh and died before it could name its first record: it may have
      // received records it never stored. Nothing can prove how far back they went; ask generously.
      this.fresh = false;
      this.blind = true;
      this.publishRate = point.publishRatePerSec;
      return;
    }
    if (!point || point.anchor.length === 0) {
      // A checkpoint without a resume point (written before resume points): by mtime, once.
      if (highestDurableMtime !== null) {
        this.fresh = false;
        this.mode = 'mtime';
      }
      return;
    }
    this.fresh = false;
    this.mode = point.mode;
    if (point.highestMtime !== null) this.highest = Math.max(this.highest, point.highestMtime);
    this.rate = point.ratePerSec;
    this.publishRate = point.publishRatePerSec;
    this.inflight = Math.max(FIRST_INFLIGHT_GUESS, point.inflight);
    this.inflightCeiling = this.inflight;
    this.restored = {
      anchor: point.anchor,
      keys: new Set(point.anchor.map((a) => key(a.id, a.mtime))),
      firstNeeded: point.anchorIs === 'first-needed',
      behind: point.behind,
      atMs: point.atMs,
      lowestPendingMtime: point.lowestPendingMtime,
      received: 0,
    };
  }

  /** What the next connection asks for (call once per attempt). */
  query(): ResumeQuery {
    const nowMs = this.o.now();
    this.awayMs = this.disconnectedAtMs === undefined ? 0 : Math.max(0, nowMs - this.disconnectedAtMs);
    this.held = false;
    if (this.fresh) return {};
    const r = this.restored;
    if (this.mode === 'mtime') {
      const floor = this.highest - this.windowMs;
      const since = r?.lowestPendingMtime != null ? Math.min(r.lowestPendingMtime, floor) : floor;
      return Number.isFinite(since) ? { sinceMtime: Math.max(0, Math.floor(since)) } : {};
    }
    const published = (this.publishRate * this.awayMs) / 1000;
    if (this.blind) return { sinceCount: BLIND_RESTART_COUNT };
    if (this.escalateTo > 0) return { sinceCount: this.reachable(Math.ceil(this.escalateTo + published)) };
    if (r) {
      // After a restart: the positions from the anchor on, plus what was published meanwhile. Past
      // a durable anchor an overshoot is cheap (its first record proves it at once), so the live
      // rate serves; before anything was durable, only a publish rate seen before.
      const away = Math.max(0, nowMs - r.atMs);
      const perSec = r.firstNeeded ? this.publishRate : Math.max(this.publishRate, this.rate);
      return { sinceCount: margin(r.behind + this.inflight + (perSec * away) / 1000) };
    }
    // The rest of a catch-up a cut interrupted — or, when that rest was shorter than what the
    // socket buffers hold, what the cut is expected to have left in flight past its last record
    // (the source went on into live records) — else what a cut is expected to miss.
    if (this.remaining > 0) {
      const rest = this.remaining + margin(published);
      // Not after a connection that carried only records received before: asking for no more than
      // the rest then is what makes a catch-up longer than a connection carries move on.
      if (!this.cut!.advanced) return { sinceCount: this.reachable(rest) };
      return { sinceCount: this.reachable(Math.max(rest, margin(this.expectedMissed(this.awayMs)))) };
    }
    return { sinceCount: this.reachable(margin(this.expectedMissed(this.awayMs))) };
  }

  /**
   * since_count reaching back no further than the first record this run stored (so every answer
   * is as long as asked, and where it starts tells exactly where the source's end was), nor more
   * than REACH_BACK before the frontier (so its first record is known if it was stored), given
   * what the source is known to hold beyond the frontier.
   */
  private reachable(count: number): number {
    if (this.origin === 0) return count;
    const most = Math.max(this.frontier, this.endAtLeast) - Math.max(this.origin, this.frontier - REACH_BACK) + 1;
    this.held = count > most;
    return Math.max(1, Math.min(count, most));
  }

  /** The connection answered 200 to `query`. */
  connected(query: ResumeQuery): void {
    const count = 'sinceCount' in query ? query.sinceCount : Number.POSITIVE_INFINITY;
    this.answer = {
      count,
      received: 0,
      frontierBefore: this.frontier,
      start: count === Number.POSITIVE_INFINITY ? this.frontier + 1 : undefined,
      proven: (count === Number.POSITIVE_INFINITY && !this.restored) || this.blind,
      caughtUp: count === Number.POSITIVE_INFINITY,
      lastKnown: false,
      restart: this.restored !== undefined,
      held: this.held,
      awayMs: this.awayMs,
    };
    this.cursor = this.frontier;
    this.reconnectReason = undefined;
    this.rateSample = { atMs: this.o.now(), frontier: this.frontier };
    this.blind = false;
  }

  /**
   * The record a proven answer brings next while it re-sends positions within the frontier (what
   * a catch-up asked beyond the cut's loss), with its line's length and where its id and mtime
   * values start (see isLineOf); undefined otherwise. Such a
   * line is a duplicate by its position: the streamer checks it is that record's line and skips
   * the full scan — through a network that cuts often, re-sent records are a third of all lines.
   * The object is reused.
   */
  expectedNext(): Readonly<{ id: string; mtime: number; length: number; idAt: number; mtimeAt: number }> | undefined {
    const a = this.answer;
    if (!a?.proven || this.reconnectReason) return undefined;
    const i = this.slotOf(this.cursor + 1);
    if (i < 0 || this.ringIdAt[i] === 0) return undefined;
    this.next.id = this.ringIds[i]!;
    this.next.mtime = this.ringMtimes[i]!;
    this.next.length = this.ringLengths[i]!;
    this.next.idAt = this.ringIdAt[i]!;
    this.next.mtimeAt = this.ringMtimeAt[i]!;
    return this.next;
  }

  /** The current answer is not yet shown to reach back far enough: its records are set aside, not stored (see record). */
  get checking(): boolean {
    return this.answer !== undefined && !this.answer.proven;
  }

  /**
   * One valid record of the current answer, in order; `known` when it had been received before
   * (a dedupe hit); `line`, its line's length and where its id and mtime values start, when known
   * (remembered for expectedNext). Returns its coordinate, or undefined
   * while the answer is not yet proven: such a record may lie beyond a gap, so the streamer sets
   * it aside — the proven answer that follows brings it again. So every record stored lies
   * within the frontier, and "received before" always means "within the frontier".
   */
  record(id: string, mtime: number, known: boolean, line: LineShape = UNKNOWN_SHAPE): number | undefined {
    if (mtime > this.highest) this.highest = mtime;
    const a = this.answer;
    // Once the connection is to be dropped, the rest of it is set aside (it comes again).
    if (!a || this.reconnectReason) return undefined;
    // A line repeating a record received before takes a position only where that record is
    // expected: anywhere else it is a copy the source sent again (a duplicate line, not a new
    // position). Counting copies as positions put the frontier ahead of what was received — 206
    // positions per 20,000 records with a copy every 97 lines — and a planner that believes it has
    // more than it has stops asking for the rest. Not counting a position the source did count only
    // makes the next request a little longer.
    if (a.proven && known && !this.mayBe(id, mtime, this.cursor + 1)) return this.cursor;
    a.received++;
    if (a.proven) {
      // A proven answer is contiguous: every position it passes beyond the frontier is now within it.
      this.cursor++;
      this.advance(id, mtime, line);
    } else {
      if (this.restored) this.restored.received++;
      this.probe(a, id, mtime, known, line);
    }
    if (!a.caughtUp && a.received >= a.count) this.endCatchup(a);
    return a.proven ? this.cursor : undefined;
  }

  /**
   * The proof: the answer's first record, or two consecutive ones, were received before (one line
   * copied from earlier proves nothing); or, after a restart with nothing durable, the first
   * record the previous run received shows up.
   */
  private probe(a: Answer, id: string, mtime: number, known: boolean, line: LineShape): void {
    const r = this.restored;
    if (r?.firstNeeded && key(id, mtime) === key(r.anchor[0]!.id, r.anchor[0]!.mtime)) {
      // The first record needed: it goes just after the frontier.
      this.prove(a, undefined);
      this.cursor++;
      this.advance(id, mtime, line);
      return;
    }
    if (!r && !known && a.received === 1 && a.count !== Number.POSITIVE_INFINITY) {
      // Asked no further back than the first record stored, an answer whose first record is new
      // starts beyond the frontier: drop it at once (a source that publishes as it is read
      // publishes what it sends ahead, so reading on only pushes the end further away).
      this.endCatchup(a);
      return;
    }
    if (known && (a.received === 1 || a.lastKnown)) {
      const at = this.locate(id, mtime);
      // A record received before but too long ago to place proves nothing yet: the next ones will place it.
      if (at !== undefined || r) {
        this.prove(a, at);
        return;
      }
    }
    a.lastKnown = known;
  }

  /** The answer reaches back far enough: place it on the timeline from the proving record's coordinate. */
  private prove(a: Answer, at: number | undefined): void {
    a.proven = true;
    const failuresBefore = this.failures;
    const afterFailures = failuresBefore > 0;
    // Proven only after asking further back, when the streamer had been away a while: the source
    // published meanwhile. (Right after a cut, what it sent ahead explains the miss.)
    if (this.failures > 0 && this.awayBeforeFailures >= AWAY_EVIDENCE_MS) this.publishRate = Math.max(this.publishRate, this.rate);
    this.escalations = 0;
    this.failures = 0;
    this.escalateTo = 0;
    this.restored = undefined;
    if (at !== undefined) {
      a.start = at - a.received + 1;
      this.cursor = at;
      this.endAtLeast = Math.max(this.endAtLeast, a.start + a.count - 1);
      // What the source had beyond the last cut when asked: from the last record received to the
      // end of this answer's catch-up — less, after unproven answers, what they made the source send
      // ahead (see inflightAfterFailure). Unless the source's end was still the end of the catch-up
      // the cut interrupted: then the cut left at most that much in flight, nothing to learn.
      const end = a.start + a.count - 1;
      const cut = this.cut;
      if (!a.restart && cut && end > cut.catchupEnd) {
        const beyond = Math.max(0, end - cut.at);
        const missed = afterFailures ? inflightAfterFailure(beyond, this.failedCount + a.frontierBefore - cut.at) : beyond;
        this.missedHistory.push({ missed, awayMs: a.awayMs });
        if (this.missedHistory.length > MISSED_HISTORY) this.missedHistory.shift();
        this.inflight = Math.max(...this.missedHistory.map((h) => h.missed));
        this.inflightCeiling = Math.max(this.inflightCeiling, missed);
      }
      if (!a.restart && failuresBefore === 1) {
        this.overFailedHistory.push(Math.max(0, end - a.frontierBefore - this.failedCount));
        if (this.overFailedHistory.length > 5) this.overFailedHistory.shift();
      }
    } else {
      // Not among the recent positions (after a restart, or far back): at the frontier.
      this.cursor = this.frontier;
      a.start = this.cursor - a.received + 1;
    }
    this.remaining = 0;
  }

  /** The cursor moved past a position: beyond the frontier, it is now received without a gap. */
  private advance(id: string, mtime: number, line: LineShape): void {
    if (this.cursor <= this.frontier) return;
    this.frontier = this.cursor;
    this.origin ||= this.cursor;
    this.remember(id, mtime, this.cursor, line);
    if (this.head.length < 4 && this.tail.length === 0) this.head.push({ id, mtime, coord: this.cursor });
  }

  /** The answer's catch-up part is over; unproven, ask again further back. */
  private endCatchup(a: Answer): void {
    a.caughtUp = true;
    if (a.proven) return;
    // It started beyond the frontier: the source's end lies at least at frontier + count.
    this.endAtLeast = Math.max(this.endAtLeast, a.frontierBefore + a.count);
    if (!a.held) this.escalations++;
    if (this.failures++ === 0) this.awayBeforeFailures = a.awayMs;
    this.failedCount = a.count;
    if (this.escalations > MAX_ESCALATIONS || this.failures > MAX_FAILURES) {
      this.mode = 'mtime';
      this.gaps++;
      this.reconnectReason = `the source did not serve since_count=${a.count} back to the last record received; resuming by since_mtime`;
      return;
    }
    // Further back. After one miss, by as much as a miss was recently found to fall short (the cut
    // left more in flight than asked, and the unproven answer made a source that publishes as it is
    // read send ahead what its buffers held): the source's end is rarely further than that. After
    // more, 4× as far — and at least a buffer-full per miss, the most a cut has been seen to leave
    // in flight: each unproven answer may have made the source send that much more ahead. (Growing
    // from a recent estimate alone, a run that had learned cuts lose ~50 records asked 85, 170, 850,
    // 4,250 while the source's end ran ~3,000 further each time, and gave up on since_count.)
    this.escalateTo =
      this.failures === 1
        ? a.count + margin(this.overFailedHistory.length > 0 ? Math.max(...this.overFailedHistory) : this.inflight)
        : Math.max(a.count * ESCALATION, this.failures * margin(this.inflightCeiling));
    this.reconnectReason = `since_count=${a.count} did not reach back to the last record received (more was published than expected); asking further back`;
  }

  /** The connection ended (or failed to open); `progressed` when it brought new records. */
  disconnected(progressed: boolean): void {
    const nowMs = this.o.now();
    const a = this.answer;
    this.answer = undefined;
    // Time away counts from the last connection that was open, not from each failed attempt.
    if (a || this.disconnectedAtMs === undefined) this.disconnectedAtMs = nowMs;
    if (this.fresh && this.frontier > 0) this.fresh = false;
    if (!a) return;
    if (a.caughtUp) this.sampleRate(nowMs);
    if (this.mode === 'mtime') {
      // A catch-up by mtime cannot skip what it re-sent: after a connection that brought nothing new, ask for less.
      this.windowMs = progressed ? Math.min(this.o.resumeWindowMs, this.windowMs * 2) : Math.max(MIN_WINDOW_MS, this.windowMs / 2);
      if (this.restored) this.restored.lowestPendingMtime = null;
      return;
    }
    if (a.proven && a.start !== undefined) this.cut = { at: this.cursor, catchupEnd: a.count === Number.POSITIVE_INFINITY ? 0 : a.start + a.count - 1, advanced: this.cursor > a.frontierBefore };
    if (a.caughtUp) {
      this.remaining = 0;
    } else if (a.proven && a.start !== undefined) {
      // Cut inside the catch-up: the part beyond the frontier not yet received is still to come.
      this.remaining = Math.max(0, a.start + a.count - 1 - this.frontier);
    } else if (!a.proven && a.received > 0) {
      // Cut before the proof, after records not received before: the answer started beyond the
      // frontier, ask further back. (After a restart with nothing durable they may be records
      // older than the first one received: ask the same again.)
      if (this.restored?.firstNeeded) this.escalateTo ||= a.count;
      else this.endCatchup(a);
    }
  }

  /** Rate sampling while live (call on the streamer's tick). */
  tick(): void {
    if (this.answer?.caughtUp) this.sampleRate(this.o.now());
  }

  /**
   * Records up to here are durable (the last of them, with the coordinates record() gave them):
   * the resume point's anchor moves to the last of them that lie within the frontier.
   */
  durable(records: Array<{ id: string; mtime: number; position: number }>): void {
    const placed = records.filter((r) => r.position <= this.frontier);
    if (placed.length === 0) return;
    this.tail = [...this.tail, ...placed.map((r) => ({ id: r.id, mtime: r.mtime, coord: r.position }))].slice(-4);
    this.head = [];
  }

  get resumeMode(): ResumeMode {
    return this.mode;
  }

  /** The resume point to persist (the checkpoint's next sequence number given), undefined while there is nothing to resume from. */
  point(writer: string, nextSeq: number, lowestPendingMtime: number | null): ResumePoint | undefined {
    const common = {
      version: 1 as const,
      writer,
      nextSeq,
      lowestPendingMtime,
      highestMtime: Number.isFinite(this.highest) ? this.highest : null,
      ratePerSec: Math.round(this.rate),
      publishRatePerSec: Math.round(this.publishRate),
      inflight: Math.round(this.inflight),
      mode: this.mode,
      atMs: this.o.now(),
    };
    const r = this.restored;
    // Not yet back at the previous run's anchor: keep it (what arrived since counts into behind).
    if (r) return { ...common, anchor: r.anchor, anchorIs: r.firstNeeded ? 'first-needed' : 'last-durable', behind: r.behind + r.received };
    const strip = (p: Placed[]): Array<{ id: string; mtime: number }> => p.map(({ id, mtime }) => ({ id, mtime }));
    if (this.tail.length > 0) return { ...common, anchor: strip(this.tail), anchorIs: 'last-durable', behind: this.frontier - this.tail.at(-1)!.coord };
    if (this.head.length > 0) return { ...common, anchor: strip(this.head), anchorIs: 'first-needed', behind: this.frontier - this.head[0]!.coord + 1 };
    // Nothing received yet: a run starting afresh (a restart that finds this asks generously).
    if (this.fresh) return { ...common, anchor: [], anchorIs: 'first-needed', behind: 0 };
    return undefined;
  }

  /** A run that starts without anything to resume from (it connects without since_*). */
  get isFresh(): boolean {
    return this.fresh;
  }

  private sampleRate(nowMs: number): void {
    const dt = nowMs - this.rateSample.atMs;
    if (dt < 200) return;
    const perSec = ((this.frontier - this.rateSample.frontier) * 1000) / dt;
    this.rate = this.rate === 0 ? perSec : 0.7 * this.rate + 0.3 * perSec;
    this.rateSample = { atMs: nowMs, frontier: this.frontier };
  }

  /**
   * What a cut after `awayMs` away is expected to have missed: the most any recent reconnect
   * missed, plus what the source publishes for the time away beyond that reconnect's. Too little
   * costs one more round (the answer is not proven and is asked again further back), never a record.
   */
  private expectedMissed(awayMs: number): number {
    if (this.missedHistory.length === 0) return this.inflight + (this.publishRate * awayMs) / 1000;
    return Math.max(...this.missedHistory.map((h) => h.missed + (this.publishRate * Math.max(0, awayMs - h.awayMs)) / 1000));
  }

  private remember(id: string, mtime: number, coordinate: number, line: LineShape): void {
    const i = (this.ringHead + this.ringSize) & (RECENT_POSITIONS - 1);
    this.ringIds[i] = id;
    this.ringMtimes[i] = mtime;
    this.ringCoords[i] = coordinate;
    this.ringLengths[i] = line.length;
    this.ringIdAt[i] = line.idAt ?? 0;
    this.ringMtimeAt[i] = line.mtimeAt ?? 0;
    if (this.ringSize < RECENT_POSITIONS) this.ringSize++;
    else this.ringHead = (this.ringHead + 1) & (RECENT_POSITIONS - 1);
  }

  /**
   * Whether the record at coordinate `coord` may be this one: within the frontier, the one the ring
   * holds there (or any, when the ring no longer knows that coordinate); beyond it, none received before.
   */
  private mayBe(id: string, mtime: number, coord: number): boolean {
    if (coord > this.frontier) return false;
    const i = this.slotOf(coord);
    return i < 0 || (this.ringIds[i] === id && this.ringMtimes[i] === mtime);
  }

  /** The ring's slot for a coordinate within the frontier, -1 when the ring does not hold it. */
  private slotOf(coord: number): number {
    const behind = this.frontier - coord;
    if (behind < 0 || behind >= this.ringSize) return -1;
    const i = (this.ringHead + this.ringSize - 1 - behind) & (RECENT_POSITIONS - 1);
    return this.ringCoords[i] === coord ? i : -1;
  }

  /** The coordinate of a recent position, newest first; undefined when it is older than the ring. */
  private locate(id: string, mtime: number): number | undefined {
    for (let k = this.ringSize - 1; k >= 0; k--) {
      const i = (this.ringHead + k) & (RECENT_POSITIONS - 1);
      if (this.ringMtimes[i] === mtime && this.ringIds[i] === id) return this.ringCoords[i];
    }
    return undefined;
  }
}

/**
 * What the cut before an unproven answer left in flight, from what its proven successor found beyond the
 * frontier (`missed`) and the since_count the unproven one asked (`failed`): more than `failed`; and the
 * unproven answer itself made a source that publishes as it is read send ahead about as far as its
 * buffers hold (about what a cut leaves in flight) less its own `failed` records of catch-up, so
 * missed ≈ inflight + (inflight − failed). Learning `missed` itself kept every estimate after a miss
 * about twice too high for five reconnects.
 */
export function inflightAfterFailure(missed: number, failed: number): number {
  return Math.max(failed + 1, Math.ceil((missed + failed) / 2));
}

/**
 * A request a little larger than the estimate: an answer must start on records already received.
 * The estimates already lean high (the most of the last few cuts); 10 % more on top re-sent 22 %
 * more records through a cutting proxy (medians of 6 paired bench runs: 155,000 against 120,000
 * per 200,000 events) for no fewer reconnects.
 */
function margin(n: number): number {
  return Math.ceil(n) + 32;
}

function key(id: string, mtime: number): string {
  return `${mtime}\u0000${id}`;
}
