"""Splits a raw lake object into records exactly like splitRecords/frameRecords in src/lake/records.ts (see their doc comments)."""
import gzip
import re

_CONCATENATED = re.compile(r"\}[ \t\r\n]*\{")


def frame_records(data: bytes) -> list:
    """Records of one raw object, in order (a record's number is its 1-based position)."""
    if len(data) >= 2 and data[0] == 0x1F and data[1] == 0x8B:
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    out = []
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        if _trim(line) == "":
            continue
        if _CONCATENATED.search(line):
            out.extend(split_concatenated(line))
        else:
            out.append(line)
    return out


# JSON's whitespace (RFC 8259), the only blanks around a record; as in src/lake/records.ts.
_JSON_WS = " \t\n\r"


def _trim(s: str) -> str:
    return s.strip(_JSON_WS)


def split_concatenated(line: str) -> list:
    """Splits '{..}{..}' into its values; stray text and an unclosed tail are records of their own."""
    pieces = []
    depth = 0
    in_string = False
    escaped = False
    start = 0
    for i, c in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
            continue
        if c == '"':
            in_string = True
        elif c in "{[":
            if depth == 0:
                stray = _trim(line[start:i])
                if stray:
                    pieces.append(stray)
                start = i
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                pieces.append(line[start : i + 1])
                start = i + 1
            elif depth < 0:
                return [line]
    rest = _trim(line[start:])
    if rest:
        pieces.append(rest)
    return pieces
