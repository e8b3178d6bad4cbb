import path from 'node:path';
import { ROOT } from './moto.ts';

/** Real data the tests read, kept in the repository (origin and licence notes: test/fixtures/README.md). */
export const FIXTURES = path.join(ROOT, 'test/fixtures');

/** The real stream capture: 758 records + a cut-off last line, 519 distinct ids. */
export const CAPTURE = path.join(FIXTURES, 'meetup/open_events_2015-03-08.ndjson');

/** 6,499 real outdoors-adventure and tech events (REST API, 2015–2016) in the stream's record shape. */
export const REST_CORPUS = path.join(FIXTURES, 'meetup-rest-2015/outdoors-tech-events.ndjson.gz');
