import { gzipSync } from 'node:zlib';
import type { LocalStore } from '../../src/lake/local-store.ts';
import type { HourId } from '../../src/lake/layout.ts';
import { writeRawObject } from './etl-lake.ts';

/** A stream record of realistic shape (fields as the real captures have them), with overrides. */
export function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    utc_offset: -25200000,
    venue: { country: 'US', city: 'Pasadena', address_1: '89 S Fair Oaks Ave', name: 'Lineage Performing Arts Center', lon: -118.150459, lat: 34.144001 },
    rsvp_limit: 0,
    venue_visibility: 'public',
    visibility: 'public',
    maybe_rsvp_count: 0,
    description: '<p>Salsa &amp; bachata</p>',
    mtime: 1425793345907,
    event_url: 'http://www.meetup.com/LA-Salsa-Bachata-Meetup/events/220692973/',
    yes_rsvp_count: 1,
    duration: 3600000,
    payment_required: '0',
    name: 'Learn Salsa',
    id: 'e1',
    time: 1426366800000,
    group: {
      join_mode: 'open',
      country: 'us',
      city: 'Pasadena',
      name: 'LA Salsa & Bachata Meetup',
      group_lon: -118.17,
      id: 16203302,
      state: 'CA',
      urlname: 'LA-Salsa-Bachata-Meetup',
      category: { name: 'dancing', id: 5, shortname: 'dancing' },
      group_photo: { photo_link: 'http://photos3.meetupstatic.com/600_395113692.jpeg', photo_id: 395113692 },
      group_lat: 34.14,
    },
    status: 'upcoming',
    ...overrides,
  };
}

export const H1: HourId = '2015-03-08T06';
export const H2: HourId = '2015-03-08T07';

/** The HTML description of the entity/strip edge case and the text both engines must make of it. */
export const EDGE_HTML =
  "<p>Caf&eacute; &amp; bar&nbsp;&#233;&#x263A; &#39;q&#39; &amp;lt;tag&amp;gt; &#0; &#xD800; &bogus;</p><script>x()</script><!-- c --><br/>end";
export const EDGE_TEXT = "Café & bar é☺ 'q' &lt;tag&gt; &#0; &#xD800; &bogus; end";

/**
 * Writes a small lake of edge cases over two hours: every normalisation rule, every quarantine
 * reason, and each raw object form (gzip NDJSON, plain NDJSON with CRLF and header lines,
 * Firehose concatenated JSON, files that are not data).
 */
export async function writeEdgeLake(store: LocalStore): Promise<void> {
  const j = (o: unknown): string => JSON.stringify(o);
  const h1 = [
    j(event({ id: 'e1', mtime: 1000, status: 'upcoming', description: EDGE_HTML })),
    j(event({ id: 'e1', mtime: 900, status: 'proposed' })),
    j(
      event({
        id: ' e2 ',
        mtime: '2000',
        name: '  Spaced   name ',
        rsvp_limit: '10',
        yes_rsvp_count: ' 3 ',
        maybe_rsvp_count: 3000000000,
        payment_required: '1',
        utc_offset: '-25200000',
        duration: undefined,
        venue: { country: ' us ', city: 'pasadena', address_1: '89 S  Fair Oaks Ave', name: ' LINEAGE Performing Arts Center', lon: '-118.15046', lat: '34.1440009' },
        fee: { amount: '12.50', currency: 'usd', description: ' per person ' },
        group: { ...(event().group as object), id: '999', country: 'GB ', group_lat: '51', group_lon: 0, category: undefined },
      }),
    ),
    j(event({ id: 'e3', mtime: 3000, venue: null, description: null, fee: null, time: undefined })),
    j(event({ id: 'e4', mtime: 4000, group: undefined })),
    j(event({ id: undefined, mtime: 4100 })),
    j(event({ id: '   ', mtime: 4200 })),
    j(event({ id: 'e5', mtime: 'soon' })),
    '[1,2,3]',
  ];
  await writeRawObject(store, H1, 'w1-1-9.ndjson.gz', gzipSync(h1.join('\n') + '\n'));
  // Plain NDJSON as a capture starts: HTTP header lines, CRLF line ends, a blank line.
  await writeRawObject(
    store,
    H1,
    'capture-1-3.ndjson',
    ['HTTP/1.1 200 OK', 'Content-Type: application/json', '', j(event({ id: 'e6', mtime: 6000, name: 'Caf\u00e9 \u263a' }))].join('\r\n') + '\r\n',
  );
  // Firehose: objects back to back without newlines, the last one cut off.
  await writeRawObject(
    store,
    H2,
    'firehose-1',
    j(event({ id: 'e1', mtime: 1500, status: 'canceled' })) + j(event({ id: 'e7', mtime: 7000 })) + ' ' + j(event({ id: 'e2', mtime: 1500, status: 'canceled' })) + '{"id":"e8","mti',
  );
  // Not data: a manifest and a temporary file.
  await writeRawObject(store, H2, '_manifest.json', '{"hour":"x"}');
  await writeRawObject(store, H2, '.w1-1-2.ndjson.gz.tmp', j(event({ id: 'ghost', mtime: 1 })));
}
