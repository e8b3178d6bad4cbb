// The source of macros.json (regexes are easier to read here than JSON-escaped):
//   node src/etl/sql/macros.src.mjs > src/etl/sql/macros.json   (a test checks they agree)
const ws = String.raw`[ \t\r\n\f]`;
const named = [
  ['&lt;', '<'], ['&gt;', '>'], ['&quot;', '"'], ['&nbsp;', ' '], ['&ndash;', '–'], ['&mdash;', '—'], ['&hellip;', '…'],
  ['&lsquo;', '‘'], ['&rsquo;', '’'], ['&ldquo;', '“'], ['&rdquo;', '”'], ['&bull;', '•'], ['&middot;', '·'],
  ['&copy;', '©'], ['&reg;', '®'], ['&trade;', '™'], ['&euro;', '€'], ['&pound;', '£'], ['&yen;', '¥'], ['&cent;', '¢'],
  ['&deg;', '°'], ['&times;', '×'], ['&laquo;', '«'], ['&raquo;', '»'], ['&eacute;', 'é'], ['&egrave;', 'è'],
  ['&ecirc;', 'ê'], ['&aacute;', 'á'], ['&agrave;', 'à'], ['&acirc;', 'â'], ['&iacute;', 'í'], ['&oacute;', 'ó'],
  ['&ocirc;', 'ô'], ['&uacute;', 'ú'], ['&uuml;', 'ü'], ['&ouml;', 'ö'], ['&auml;', 'ä'], ['&ccedil;', 'ç'],
  ['&ntilde;', 'ñ'], ['&szlig;', 'ß'], ['&Eacute;', 'É'],
];
const namedCases = [['amp', '&'], ['apos', "' || chr(39) || '"], ...named.map(([e, ch]) => [e.slice(1, -1), ch])]
  .map(([n, ch]) => `WHEN $1 LIKE '${n};%' THEN '${ch}' || substr($1, ${n.length + 2})`)
  .join(' ');
const dec = String.raw`'^([0-9]{1,7});'`;
const hex = String.raw`'^[xX]([0-9a-fA-F]{1,6});'`;
const macros = {
  _doc: { params: [], body: 'Shared SQL macros of the ETL, expanded by src/etl/dialect.ts and spark/jobs/sqlgen.py. $n is the n-th argument.' },
  clean: { params: ['s'], body: `nullif(@trim_ws($1), '')` },
  norm_key: { params: ['s'], body: `lower(@re_replace(@clean($1), '${ws}{2,}|[\\t\\r\\n\\f]', ' '))` },
  country: { params: ['s'], body: `lower(@clean($1))` },
  num: {
    params: ['s'],
    body: String.raw`CASE WHEN @re_match(@clean($1), '^-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?$') THEN CAST(@clean($1) AS DOUBLE) END`,
  },
  int: {
    params: ['s'],
    body: String.raw`CASE WHEN @re_match(@clean($1), '^-?[0-9]{1,15}(\.0*)?$') THEN CAST(@re_extract(@clean($1), '^(-?[0-9]{1,15})', 1) AS BIGINT) END`,
  },
  int32: {
    params: ['s'],
    body: String.raw`CASE WHEN @re_match(@clean($1), '^-?[0-9]{1,9}(\.0*)?$') THEN CAST(@re_extract(@clean($1), '^(-?[0-9]{1,9})', 1) AS INTEGER) END`,
  },
  bool: {
    params: ['s'],
    body: `CASE WHEN lower(@clean($1)) IN ('1', 'true', 't', 'yes', 'y') THEN TRUE WHEN lower(@clean($1)) IN ('0', 'false', 'f', 'no', 'n') THEN FALSE END`,
  },
  coord_e4: { params: ['d'], body: `CAST(floor($1 * 10000 + 0.5) AS BIGINT)` },
  entity_ok: { params: ['n'], body: `($1 BETWEEN 1 AND 1114111 AND NOT ($1 BETWEEN 55296 AND 57343))` },
  entity_piece: {
    params: ['p'],
    body:
      `CASE WHEN @re_match($1, ${dec}) AND @entity_ok(CAST(@re_extract($1, ${dec}, 1) AS BIGINT)) ` +
      `THEN @chr(CAST(@re_extract($1, ${dec}, 1) AS BIGINT)) || substr($1, instr($1, ';') + 1) ` +
      `WHEN @re_match($1, ${hex}) AND @entity_ok(@hex_to_int(@re_extract($1, ${hex}, 1))) ` +
      `THEN @chr(@hex_to_int(@re_extract($1, ${hex}, 1))) || substr($1, instr($1, ';') + 1) ` +
      `ELSE '&#' || $1 END`,
  },
  entity_ref: {
    params: ['p'],
    body: `CASE ${namedCases} WHEN $1 LIKE '#%' THEN @entity_piece(substr($1, 2)) ELSE '&' || $1 END`,
  },
  decode_entities: {
    params: ['s'],
    body: `CASE WHEN instr($1, '&') = 0 THEN $1 ELSE @at(@split($1, '&'), 1) || @list_join(@list_map(@list_tail(@split($1, '&')), p, @entity_ref(p))) END`,
  },
  html_text: {
    params: ['html'],
    body:
      // One pass removes comments, script/style elements and tags; whitespace runs then become one
      // space (matching only runs of 2+ or non-space whitespace is several times faster).
      `@clean(@re_replace(@decode_entities(@re_replace($1, ` +
      String.raw`'(?is)<!--.*?-->|<(script|style)\b[^>]*>.*?</(script|style)[^>]*>|<[a-z/!][^>]*>'` +
      `, ' ')), ` +
      String.raw`'[ \t\r\n\f]{2,}|[\t\r\n\f]'` +
      `, ' '))`,
  },
};
process.stdout.write(JSON.stringify(macros, null, 2) + '\n');
