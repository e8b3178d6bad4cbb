"""The ETL's dialect layer in Python: the line-for-line twin of src/etl/dialect.ts.

The transformation is defined once, as the SQL files under src/etl/sql/. Both engines expand the
same files: `${name}` parameters become SQL string literals, `@macro(...)` calls are expanded
innermost-first (shared macros from macros.json, primitives below). A vitest test asserts this
module and dialect.ts expand every file identically.
"""
import json
import os
import re
import sys

# The whitespace trimmed from strings: space, tab, LF, FF, CR.
WS_CHARS = "(' ' || chr(9) || chr(10) || chr(12) || chr(13))"

PRIMITIVES = {
    "duckdb": {
        "trim_ws": lambda a: f"trim({a[0]}, {WS_CHARS})",
        "json_valid": lambda a: f"json_valid({a[0]})",
        "json_strings": lambda a: f"json_extract_string({a[0]}, [{', '.join(a[1:])}])",
        "at": lambda a: f"({a[0]})[{a[1]}]",
        "re_replace": lambda a: f"regexp_replace({a[0]}, {a[1]}, {a[2]}, 'g')",
        "re_match": lambda a: f"regexp_matches({a[0]}, {a[1]})",
        "re_extract": lambda a: f"regexp_extract({a[0]}, {a[1]}, {a[2]})",
        "ts_from_ms": lambda a: f"make_timestamp(CAST({a[0]} AS BIGINT) * 1000)",
        "ts_literal": lambda a: f"CAST({a[0]} AS TIMESTAMP)",
        "chr": lambda a: f"chr(CAST({a[0]} AS INTEGER))",
        "hex_to_int": lambda a: f"CAST(('0x' || {a[0]}) AS BIGINT)",
        "split": lambda a: f"string_split({a[0]}, {a[1]})",
        "list_map": lambda a: f"list_transform({a[0]}, lambda {a[1]}: {a[2]})",
        "list_tail": lambda a: f"({a[0]})[2:]",
        "list_join": lambda a: f"array_to_string({a[0]}, '')",
    },
    "spark": {
        "trim_ws": lambda a: f"btrim({a[0]}, {WS_CHARS})",
        "json_valid": lambda a: f"(get_json_object({a[0]}, '$') IS NOT NULL)",
        "json_strings": lambda a: f"array({', '.join(f'get_json_object({a[0]}, {p})' for p in a[1:])})",
        "at": lambda a: f"element_at({a[0]}, {a[1]})",
        "re_replace": lambda a: f"regexp_replace({a[0]}, {a[1]}, {a[2]})",
        "re_match": lambda a: f"({a[0]} RLIKE {a[1]})",
        "re_extract": lambda a: f"regexp_extract({a[0]}, {a[1]}, {a[2]})",
        "ts_from_ms": lambda a: f"CAST(timestamp_millis(CAST({a[0]} AS BIGINT)) AS TIMESTAMP_NTZ)",
        "ts_literal": lambda a: f"CAST({a[0]} AS TIMESTAMP_NTZ)",
        "chr": lambda a: f"decode(unhex(lpad(hex(CAST({a[0]} AS BIGINT)), 8, '0')), 'UTF-32')",
        "hex_to_int": lambda a: f"CAST(conv({a[0]}, 16, 10) AS BIGINT)",
        "split": lambda a: f"split({a[0]}, {a[1]})",
        "list_map": lambda a: f"transform({a[0]}, {a[1]} -> {a[2]})",
        "list_tail": lambda a: f"slice({a[0]}, 2, greatest(size({a[0]}) - 1, 0))",
        "list_join": lambda a: f"array_join({a[0]}, '')",
    },
}

DEFAULT_SQL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "etl", "sql")

_MACRO_CALL = re.compile(r"@([a-z_][a-z0-9_]*)\(")


class Expander:
    def __init__(self, dialect, sql_dir=DEFAULT_SQL_DIR):
        self.dialect = dialect
        self.sql_dir = sql_dir
        with open(os.path.join(sql_dir, "macros.json"), encoding="utf-8") as f:
            self.shared = json.load(f)

    def expand(self, sql, params=None):
        params = params or {}

        def param(m):
            name = m.group(1)
            if name not in params:
                raise ValueError(f"SQL parameter ${{{name}}} has no value")
            return "'" + params[name].replace("'", "''") + "'"

        return self._macros(_strip_comments(re.sub(r"\$\{(\w+)\}", param, sql)))

    def _macros(self, sql):
        out = []
        i = 0
        n = len(sql)
        while i < n:
            c = sql[i]
            if c == "'":
                end = _string_end(sql, i)
                out.append(sql[i:end])
                i = end
                continue
            m = _MACRO_CALL.match(sql[i : i + 64]) if c == "@" else None
            if not m:
                out.append(c)
                i += 1
                continue
            args, end = _parse_args(sql, i + len(m.group(0)))
            out.append(self._apply(m.group(1), [self._macros(a) for a in args]))
            i = end
        return "".join(out)

    def _apply(self, name, args):
        primitive = PRIMITIVES[self.dialect].get(name)
        if primitive:
            return primitive(args)
        macro = self.shared.get(name)
        if macro is None:
            raise ValueError(f"unknown SQL macro @{name}")
        if len(macro["params"]) != len(args):
            raise ValueError(f"@{name} takes {len(macro['params'])} arguments, got {len(args)}")
        body = re.sub(r"\$(\d+)", lambda m: "(" + args[int(m.group(1)) - 1] + ")", macro["body"])
        return self._macros(body)

    def steps(self, params):
        """[(name, is_output, sql)] for the NN_<name>.sql files, in order ('_' names are intermediates)."""
        files = sorted(f for f in os.listdir(self.sql_dir) if re.fullmatch(r"\d+_\w+\.sql", f))
        out = []
        for file in files:
            name = re.sub(r"\.sql$", "", re.sub(r"^\d+_", "", file))
            with open(os.path.join(self.sql_dir, file), encoding="utf-8") as f:
                text = f.read()
            out.append((name.lstrip("_") if name.startswith("_") else name, not name.startswith("_"), self.expand(text, params)))
        return out


def _strip_comments(sql):
    out = []
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            end = _string_end(sql, i)
            out.append(sql[i:end])
            i = end
        elif c == "-" and i + 1 < n and sql[i + 1] == "-":
            while i < n and sql[i] != "\n":
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _string_end(sql, start):
    i = start + 1
    n = len(sql)
    while i < n:
        if sql[i] == "'":
            if i + 1 < n and sql[i + 1] == "'":
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise ValueError(f"unterminated string literal at {start}")


def _parse_args(sql, start):
    args = []
    depth = 0
    current = []
    i = start
    n = len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            end = _string_end(sql, i)
            current.append(sql[i:end])
            i = end
            continue
        if c in "([":
            depth += 1
        if c in ")]":
            if depth == 0:
                args.append("".join(current).strip())
                return args, i + 1
            depth -= 1
        if c == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    raise ValueError(f"unbalanced macro call at {start}")


if __name__ == "__main__":
    # Prints every step expanded for a dialect as JSON (used by the cross-implementation test).
    dialect = sys.argv[1]
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    sql_dir = sys.argv[3] if len(sys.argv) > 3 else DEFAULT_SQL_DIR
    steps = Expander(dialect, sql_dir).steps(params)
    print(json.dumps([{"name": s[0], "output": s[1], "sql": s[2]} for s in steps], ensure_ascii=False))
