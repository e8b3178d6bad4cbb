"""Tests of the Spark ETL job: framing, the dialect layer, and the pure transform on tiny inline data."""
import json

import pytest

from jobs import etl
from jobs.framing import frame_records, split_concatenated
from jobs.sqlgen import Expander

H1 = "2015-03-08T06"
H2 = "2015-03-08T07"


def ev(**over):
    base = {
        "id": "e1",
        "mtime": 1000,
        "status": "upcoming",
        "name": "Learn Salsa",
        "time": 1426366800000,
        "utc_offset": -25200000,
        "payment_required": "0",
        "description": "<p>Salsa &amp; bachata</p>",
        "venue": {"name": "Lineage Performing Arts Center", "address_1": "89 S Fair Oaks Ave", "city": "Pasadena", "country": "US", "lat": 34.144001, "lon": -118.150459},
        "group": {"id": 7, "name": "LA Salsa", "country": "US", "city": "Pasadena", "group_lat": 34.14, "group_lon": -118.17, "category": {"id": 5, "name": "dancing", "shortname": "dancing"}},
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def raw(spark, rows):
    """raw_records from (hour, key, line_no, record-or-text) tuples."""
    data = [(h, k, n, r if isinstance(r, str) else json.dumps(r)) for h, k, n, r in rows]
    return spark.createDataFrame(data, etl.RAW_SCHEMA)


# ---- framing ---------------------------------------------------------------------------------

def test_framing_splits_firehose_objects_and_keeps_braces_inside_strings():
    # Given a Firehose-style line with objects back to back, braces in strings and a cut-off tail
    data = b'{"a":"}{"}{"b":{"c":1}} {"d":2}{"e":'
    # When it is framed / Then each object is a record and the tail is kept (to be quarantined)
    assert frame_records(data) == ['{"a":"}{"}', '{"b":{"c":1}}', '{"d":2}', '{"e":']


def test_framing_detects_gzip_by_magic_bytes_and_skips_blank_lines():
    import gzip

    assert frame_records(gzip.compress(b'{"a":1}\r\n\n  \n{"a":2}\n')) == ['{"a":1}', '{"a":2}']


def test_split_concatenated_gives_up_on_unbalanced_closers():
    assert split_concatenated('{"a":1}}{"b":2}') == ['{"a":1}}{"b":2}']


# ---- dialect layer ---------------------------------------------------------------------------

def test_expander_expands_primitives_per_engine_and_leaves_strings_alone():
    sql = "SELECT @re_replace(x, '@not_a_macro(', '') -- @at(y, 1)\n"
    assert Expander("spark").expand(sql) == "SELECT regexp_replace(x, '@not_a_macro(', '') \n"
    assert Expander("duckdb").expand(sql) == "SELECT regexp_replace(x, '@not_a_macro(', '', 'g') \n"


def test_expander_rejects_unknown_macros_and_wrong_arity():
    with pytest.raises(ValueError, match="unknown SQL macro @nope"):
        Expander("spark").expand("SELECT @nope(1)")
    with pytest.raises(ValueError, match="takes 1 arguments, got 2"):
        Expander("spark").expand("SELECT @clean(a, b)")


def test_parameters_become_quoted_literals():
    assert Expander("spark").expand("SELECT ${p}", {"p": "it's"}) == "SELECT 'it''s'"


# ---- transform -------------------------------------------------------------------------------

def test_transform_keeps_the_newest_version_per_hour_and_quarantines_with_reasons(spark):
    # Given two hours of raw records: two versions of e1, records that cannot be placed
    rows = [
        (H1, "raw/a", 1, ev(id="e1", mtime=1000, status="upcoming")),
        (H1, "raw/a", 2, ev(id="e1", mtime=900, status="proposed")),
        (H1, "raw/a", 3, ev(id="e2", mtime="2000", group=None)),
        (H1, "raw/a", 4, ev(id=" ", mtime=1)),
        (H1, "raw/a", 5, ev(id="e3", mtime="later")),
        (H1, "raw/a", 6, '{"id":"e4","mti'),
        (H2, "raw/b", 1, ev(id="e1", mtime=1500, status="canceled")),
    ]
    # When the transform runs
    out = etl.transform(spark, raw(spark, rows), [H1, H2], "2026-01-01 00:00:00")
    # Then each hour holds its newest version of e1
    events = sorted((r["arrival_hour"], r["event_id"], r["status"], r["mtime"]) for r in out["events"].collect())
    assert events == [(H1, "e1", "upcoming", 1000), (H2, "e1", "canceled", 1500)]
    # And every record that cannot be placed is quarantined with its reason
    q = sorted((r["line_no"], r["reason"]) for r in out["quarantine"].collect())
    assert q == [(3, "missing_group"), (4, "missing_id"), (5, "missing_mtime"), (6, "invalid_json")]
    hours = sorted((r["arrival_hour"], r["raw_records"], r["valid_records"], r["quarantined"]) for r in out["hours"].collect())
    assert hours == [(H1, 6, 2, 4), (H2, 1, 1, 0)]
    # And the history keeps both versions of hour 1
    assert sorted((r["mtime"], r["status"]) for r in out["event_changes"].collect() if r["arrival_hour"] == H1) == [(900, "proposed"), (1000, "upcoming")]


def test_transform_normalises_types_text_countries_and_venue_keys(spark):
    rows = [
        (H1, "raw/a", 1, ev(id="e1", mtime=1, yes_rsvp_count=" 4 ", payment_required="1", description="<b>Caf&eacute;</b>&nbsp;&#233;&#x263A; &amp;lt;")),
        (H1, "raw/a", 2, ev(id="e2", mtime=2, venue={"name": " lineage  PERFORMING arts center", "address_1": "89 s fair oaks ave", "city": "PASADENA", "country": " us", "lat": "34.1440004", "lon": "-118.15046"})),
    ]
    out = etl.transform(spark, raw(spark, rows), [H1], "2026-01-01 00:00:00")
    e = {r["event_id"]: r for r in out["events"].collect()}
    assert e["e1"]["yes_rsvp_count"] == 4
    assert e["e1"]["payment_required"] is True
    assert e["e1"]["description_text"] == "Café é☺ &lt;"
    assert str(e["e1"]["time_local"]) == "2015-03-14 14:00:00"
    # The same venue written differently gets one key
    assert e["e1"]["venue_key"] == e["e2"]["venue_key"] and len(e["e1"]["venue_key"]) == 16
    groups = out["groups"].collect()
    assert [(g["group_id"], g["country"]) for g in groups] == [(7, "us")]


def test_configure_points_s3a_at_the_endpoint_from_the_environment():
    class Builder:
        def __init__(self):
            self.conf = {}

        def config(self, k, v):
            self.conf[k] = v
            return self

    b = etl.configure(Builder(), {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert b.conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:5000"
    assert b.conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert "spark.hadoop.fs.s3a.endpoint" not in etl.configure(Builder(), {}).conf
    assert etl.hadoop_url("s3://bucket/lake/") == "s3a://bucket/lake"
    assert etl.hadoop_url("file:///tmp/lake") == "file:///tmp/lake"


def test_extract_reads_objects_in_any_form_and_fails_only_the_hour_of_an_unreadable_one(spark, tmp_path):
    import gzip

    # Given raw objects: gzip without a .gz name, Firehose-style plain, and a corrupt gzip in another hour
    hour_dir = tmp_path / "raw" / "2015" / "03" / "08" / "06"
    hour_dir.mkdir(parents=True)
    (hour_dir / "w-1-2.ndjson").write_bytes(gzip.compress(b'{"id":"a"}\n{"id":"b"}\n'))
    (hour_dir / "firehose-1").write_bytes(b'{"id":"c"}{"id":"d"}')
    bad_dir = tmp_path / "raw" / "2015" / "03" / "08" / "07"
    bad_dir.mkdir(parents=True)
    (bad_dir / "w-3-4.ndjson.gz").write_bytes(gzip.compress(b'{"id":"e"}\n' * 50)[:-8])
    inputs = [
        {"hour": H1, "key": "raw/2015/03/08/06/firehose-1", "url": f"file://{hour_dir}/firehose-1"},
        {"hour": H1, "key": "raw/2015/03/08/06/w-1-2.ndjson", "url": f"file://{hour_dir}/w-1-2.ndjson"},
        {"hour": H2, "key": "raw/2015/03/08/07/w-3-4.ndjson.gz", "url": f"file://{bad_dir}/w-3-4.ndjson.gz"},
    ]
    # When they are extracted
    df, errors = etl.extract(spark, inputs)
    # Then every record of the readable objects is there, keyed by object and position
    rows = sorted((r["arrival_hour"], r["source_key"], r["line_no"], r["raw"]) for r in df.collect())
    assert rows == [
        (H1, "raw/2015/03/08/06/firehose-1", 1, '{"id":"c"}'),
        (H1, "raw/2015/03/08/06/firehose-1", 2, '{"id":"d"}'),
        (H1, "raw/2015/03/08/06/w-1-2.ndjson", 1, '{"id":"a"}'),
        (H1, "raw/2015/03/08/06/w-1-2.ndjson", 2, '{"id":"b"}'),
    ]
    # And the corrupt object fails its hour, named
    assert list(errors) == [H2] and errors[H2].startswith("raw/2015/03/08/07/w-3-4.ndjson.gz cannot be read:")


def test_load_writes_one_sorted_file_per_table_and_unit(spark, tmp_path):
    # Given two hours of two units
    rows = [
        (H1, "raw/a", 1, ev(id="e2", mtime=1)),
        (H1, "raw/a", 2, ev(id="e1", mtime=1)),
        ("2015-04-01T00", "raw/b", 1, ev(id="e3", mtime=2)),
    ]
    out = etl.transform(spark, raw(spark, rows), [H1, "2015-04-01T00"], "2026-01-01 00:00:00")
    # When loaded
    files = etl.load(spark, out, f"file://{tmp_path}", {H1: "2015-03", "2015-04-01T00": "2015-04"})
    # Then each table has one file per unit, rows in hour and key order
    events = [(u, n) for t, u, _, n in files if t == "events"]
    assert events == [("2015-03", 2), ("2015-04", 1)]
    path = next(p for t, u, p, _ in files if t == "events" and u == "2015-03")
    assert [r["event_id"] for r in spark.read.parquet(path).collect()] == ["e1", "e2"]


def test_a_batch_published_into_a_lake_lands_under_content_named_keys(spark, tmp_path):
    import hashlib

    # Given a batch of one hour with one raw object, and a lake to publish into (as on EMR: --publish)
    hour_dir = tmp_path / "raw" / "2015" / "03" / "08" / "06"
    hour_dir.mkdir(parents=True)
    (hour_dir / "w-1-2.ndjson").write_text(json.dumps(ev(id="e1")) + "\n" + json.dumps(ev(id="e2", mtime=5)) + "\n")
    batch = {"index": 3, "hours": [H1], "units": {H1: "2015-03"}, "inputs": [{"hour": H1, "key": "raw/2015/03/08/06/w-1-2.ndjson", "url": f"file://{hour_dir}/w-1-2.ndjson"}]}
    lake = tmp_path / "lake"
    # When it runs
    lines = etl.run_batch(spark, batch, f"file://{tmp_path}/out", etl.DEFAULT_SQL_DIR, "2026-01-01 00:00:00", lake=f"file://{lake}")
    # Then each file is in the lake under curated/<table>/<first>_<last>-<sha256/16>.parquet of its own bytes
    files = [l for l in lines if "table" in l]
    assert {l["table"] for l in files} >= {"events", "groups", "hours"}
    for line in files:
        path = lake / line["key"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert line["key"] == f"curated/{line['table']}/{H1}_{H1}-{digest[:16]}.parquet"
        assert line["bytes"] == path.stat().st_size and line["hours"] == [H1] and "file" not in line
        assert spark.read.parquet(str(path)).count() == line["rows"]
    # And the hour's counts are reported with the batch
    assert [l for l in lines if l.get("hour") == H1] == [{"batch": 3, "hour": H1, "raw_records": 2, "valid_records": 2, "quarantined": 0}]


def test_plans_and_results_go_through_hadoop_urls(spark, tmp_path):
    url = f"file://{tmp_path}/results/batch-0.json"
    etl.write_text(spark, url, '{"plan": "p", "lines": []}')
    assert json.loads(etl.read_text(spark, url)) == {"plan": "p", "lines": []}
    assert json.loads(etl.read_text(spark, str(tmp_path / "results" / "batch-0.json")))["plan"] == "p"
