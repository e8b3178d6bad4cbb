/**
 * Escaping for everything interpolated into the report's HTML. Every string that came from the
 * stream (event, group and venue names, cities...) goes through one of these before it is
 * written into markup; the templates never interpolate a raw value.
 */

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values (also valid inside SVG). */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML[c] ?? c);
}

/** A tagged template that escapes every interpolated value unless it is already `Html`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += toHtml(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Markup that is already safe (built by `html` or produced by a trusted renderer). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Marks trusted markup (e.g. SVG from the chart renderer, which escapes its own text). */
export function trusted(markup: string): Html {
  return new Html(markup);
}

function toHtml(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(toHtml).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}
