/** Bytes of JSON's structure (RFC 8259), for the scanners that work on raw bytes. */
export const OPEN_OBJ = 0x7b;
export const CLOSE_OBJ = 0x7d;
export const OPEN_ARR = 0x5b;
export const CLOSE_ARR = 0x5d;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
