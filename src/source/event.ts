/**
 * The open_events record as Meetup's stream sent it (see DESIGN.md "The open_events record" and
 * the real capture). These types describe what a producer may send; a consumer must still
 * validate, because real records vary: key order changes, optional fields come and go, numbers
 * that should be floats arrive as ints, and unknown fields may appear.
 */

/** An event's status as the stream reports it. */
export type EventStatus = 'upcoming' | 'suggested' | 'proposed' | 'canceled' | 'deleted';

/** A group's category: `id` is one of Meetup's category ids (1 arts-culture … 36 writing). */
export interface Category {
  id: number;
  /** Display name, e.g. "outdoors/adventure". */
  name: string;
  /** Stable slug, e.g. "outdoors-adventure". */
  shortname: string;
}

/** A group's photo; links are absolute http URLs. */
export interface GroupPhoto {
  photo_id: number;
  photo_link: string;
  highres_link: string;
  thumb_link: string;
}

/** The group hosting an event. Some groups have no category; there are no topics in this stream. */
export interface Group {
  /** Numeric group id (a JSON number, unlike the event id). */
  id: number;
  name: string;
  urlname: string;
  /** "open" or "approval". */
  join_mode: string;
  city: string;
  /** ISO 3166-1 alpha-2, lowercase in real captures. */
  country: string;
  /** Sometimes an integer. */
  group_lat: number;
  group_lon: number;
  state?: string;
  category?: Category;
  group_photo?: GroupPhoto;
}

/** Where an event happens. There is no venue id; `country` comes as "us" and as "US". */
export interface Venue {
  name: string;
  address_1: string;
  city: string;
  country: string;
  address_2?: string;
  state?: string;
  zip?: string;
  phone?: string;
  lat?: number;
  lon?: number;
}

/** The fee of a paid event (then `payment_required` is "1"). */
export interface Fee {
  amount: number;
  /** ISO 4217, e.g. "USD". */
  currency: string;
  /** E.g. "per person". */
  description: string;
}

/**
 * One record of the stream: the state of an event at `mtime`. The same `id` arrives again each
 * time the event changes, and `mtime` is not monotonic across records.
 */
export interface OpenEvent {
  /** Always a string: numeric ("221001899") or alphanumeric for recurring events ("dgfvkkytfbsb"). */
  id: string;
  name: string;
  event_url: string;
  /** Last modification, ms since the epoch. */
  mtime: number;
  status: EventStatus;
  visibility: string;
  /** "public" or "members". */
  venue_visibility: string;
  /** 0 means no limit. */
  rsvp_limit: number;
  yes_rsvp_count: number;
  maybe_rsvp_count: number;
  /** "0" or "1", a string. */
  payment_required: '0' | '1';
  group: Group;
  /** Start, ms since the epoch (UTC). */
  time?: number;
  /** Offset of the event's local time from UTC, ms. */
  utc_offset?: number;
  /** ms; absent means 3 hours. */
  duration?: number;
  /** HTML. */
  description?: string;
  venue?: Venue;
  fee?: Fee;
}

/** Meetup's category ids with their display names and slugs, as the stream sent them. */
export const CATEGORIES: readonly Category[] = [
  { id: 1, name: 'fine arts/culture', shortname: 'arts-culture' },
  { id: 2, name: 'career/business', shortname: 'career-business' },
  { id: 3, name: 'cars/motorcycles', shortname: 'cars-motorcycles' },
  { id: 4, name: 'community/environment', shortname: 'community-environment' },
  { id: 5, name: 'dancing', shortname: 'dancing' },
  { id: 6, name: 'education/learning', shortname: 'education-learning' },
  { id: 8, name: 'fashion/beauty', shortname: 'fashion-beauty' },
  { id: 9, name: 'fitness', shortname: 'fitness' },
  { id: 10, name: 'food/drink', shortname: 'food-drink' },
  { id: 11, name: 'games', shortname: 'games' },
  { id: 12, name: 'LGBT', shortname: 'lgbt' },
  { id: 13, name: 'movements/politics', shortname: 'government-politics' },
  { id: 14, name: 'health/wellbeing', shortname: 'health-wellbeing' },
  { id: 15, name: 'hobbies/crafts', shortname: 'hobbies-crafts' },
  { id: 16, name: 'language/ethnic identity', shortname: 'language' },
  { id: 18, name: 'literature/writing', shortname: 'literature-writing' },
  { id: 20, name: 'movies/film', shortname: 'movies-film' },
  { id: 21, name: 'music', shortname: 'music' },
  { id: 22, name: 'new age/spirituality', shortname: 'new-age-spirituality' },
  { id: 23, name: 'outdoors/adventure', shortname: 'outdoors-adventure' },
  { id: 25, name: 'parents/family', shortname: 'parents-family' },
  { id: 26, name: 'pets/animals', shortname: 'pets-animals' },
  { id: 27, name: 'photography', shortname: 'photography' },
  { id: 28, name: 'religion/beliefs', shortname: 'religion-beliefs' },
  { id: 29, name: 'sci-fi/fantasy', shortname: 'sci-fi-fantasy' },
  { id: 30, name: 'singles', shortname: 'singles' },
  { id: 31, name: 'socializing', shortname: 'socializing' },
  { id: 32, name: 'sports/recreation', shortname: 'sports-recreation' },
  { id: 33, name: 'support', shortname: 'support' },
  { id: 34, name: 'tech', shortname: 'tech' },
  { id: 35, name: 'women', shortname: 'women' },
  { id: 36, name: 'writing', shortname: 'writing' },
];
