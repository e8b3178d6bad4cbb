"""The curated-tables ETL on Spark: the same SQL (src/etl/sql/) as the embedded DuckDB engine.

    spark-submit --master 'local[*]' spark/jobs/etl.py --plan plan.json --out file:///abs/scratch/out

The plan (written by src/etl/engines/spark.ts, or by src/etl/engines/emr.ts to S3) lists batches of
hours: each batch's raw objects (hour, key, url: file:// or s3://), and the unit each hour is written
under. Each batch is one
Spark job inside this one application: extract (raw objects -> records; an object that cannot be
read fails its hour only) -> transform (pure: DataFrames in, DataFrames out, no I/O) -> load (one
Parquet file per table per unit under --out/<table>/_unit=<unit>/). Results are JSON lines on
stdout, tagged with the batch: per hour its counts or error, per file its table, unit, path and
rows, then {"batch": i, "done": true} or {"batch": i, "error": ...}. The caller publishes the files
and commits each batch as its done line arrives, so a killed run keeps its finished batches.
On EMR (--publish, --results) the job moves each file to its content-named key in the lake itself
and writes each batch's lines to <results>/batch-<i>.json, which the engine polls for.
"""
import argparse
import json
import os
import re
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pyspark.sql import functions as F  # noqa: E402

from jobs.framing import frame_records  # noqa: E402
from jobs.sqlgen import DEFAULT_SQL_DIR, Expander  # noqa: E402

CURATED_TABLES = ["categories", "groups", "venues", "events", "event_changes", "fees", "quarantine", "hours"]
RAW_SCHEMA = "arrival_hour STRING, source_key STRING, line_no BIGINT, raw STRING"
HOUR_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})$")


def hour_path(hour):
    m = HOUR_RE.match(hour)
    if not m:
        raise ValueError(f"not an hour (YYYY-MM-DDTHH): {hour}")
    return "/".join(m.groups())


def hadoop_url(url):
    """s3:// and s3n:// are read through s3a (hadoop-aws); file:// and others pass through."""
    url = url.rstrip("/")
    return re.sub(r"^s3n?://", "s3a://", url)


def build_session(app_name="openevents-etl", master=None):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    builder = configure(builder, os.environ)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def ship_jobs_package(spark):
    """Python workers (local or on a cluster) import jobs.framing: ship the package as a zip, once per context."""
    import atexit
    import shutil
    import tempfile
    import zipfile

    sc = spark.sparkContext
    if getattr(sc, "_openevents_jobs_shipped", False):
        return

    here = os.path.dirname(os.path.abspath(__file__))
    folder = tempfile.mkdtemp(prefix="openevents-jobs-")
    # Executors fetch the zip while the context lives: remove it when the job's process ends.
    atexit.register(shutil.rmtree, folder, True)
    archive = os.path.join(folder, "jobs.zip")
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("__init__.py", "framing.py", "sqlgen.py", "etl.py"):
            z.write(os.path.join(here, name), f"jobs/{name}")
    sc.addPyFile(archive)
    sc._openevents_jobs_shipped = True


def configure(builder, env):
    """Session settings the shared SQL relies on, plus s3a for s3:// lakes (endpoint from AWS_ENDPOINT_URL)."""
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        # The normalisation expressions are large; whole-stage code generation would try (and fail)
        # to compile them into one Java method before falling back, which costs more than it saves.
        .config("spark.sql.codegen.wholeStage", "false")
    )
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        builder = (
            builder.config("spark.hadoop.fs.s3a.endpoint", endpoint)
            .config("spark.hadoop.fs.s3a.path.style.access", "true")
            .config("spark.hadoop.fs.s3a.connection.ssl.enabled", str(endpoint.startswith("https")).lower())
        )
    return builder


# ---- extract -------------------------------------------------------------------------------

def _fs(spark, url):
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(url)
    return path.getFileSystem(conf), path


def _same_file(url):
    """binaryFiles spells file:///x as file:/x: one spelling for both."""
    return re.sub(r"^file:/+", "file:/", url)


def records_or_error(hour, key, data):
    """(hour, key, line_no, raw, error) rows of one object; one row with the error if it cannot be framed."""
    try:
        return [(hour, key, i + 1, rec, None) for i, rec in enumerate(frame_records(bytes(data)))]
    except Exception as e:  # noqa: BLE001 - any unreadable object fails its hour, with why
        return [(hour, key, 0, None, f"{key} cannot be read: {e}")]


def extract(spark, inputs):
    """raw_records(arrival_hour, source_key, line_no, raw) of the inputs, and {hour: error} for the
    hours with an object that cannot be read (their records are left out).

    inputs: [{"hour", "key", "url"}], url a file:// or s3:// URL of the raw object.
    """
    if not inputs:
        return spark.createDataFrame([], RAW_SCHEMA), {}
    ship_jobs_package(spark)
    by_url = {_same_file(hadoop_url(i["url"])): (i["hour"], i["key"]) for i in inputs}
    urls = ",".join(hadoop_url(i["url"]) for i in inputs)
    # Small objects (an archive's sparse hours) are read a few per task; big ones one each.
    rdd = spark.sparkContext.binaryFiles(urls, minPartitions=min(len(inputs), 64)).flatMap(
        lambda kv: records_or_error(*by_url[_same_file(kv[0])], kv[1])
    )
    df = spark.createDataFrame(rdd, RAW_SCHEMA + ", error STRING").persist()
    errors = {r["arrival_hour"]: r["error"] for r in df.where("error IS NOT NULL").select("arrival_hour", "error").collect()}
    raw = df.where(~df["arrival_hour"].isin(list(errors))) if errors else df
    return raw.drop("error"), errors


# ---- transform (pure) ------------------------------------------------------------------------

# SQL settings the shared SQL is written for; they apply while it is parsed and analysed.
SQL_CONF = {
    # The SQL files write regexes with single backslashes, as DuckDB reads them.
    "spark.sql.parser.escapedStringLiterals": "true",
    # The SQL guards its own casts; a stray value must never fail a whole run.
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
}


def transform(spark, raw_records, hours, processed_at, sql_dir=DEFAULT_SQL_DIR):
    """Runs the shared SQL steps over raw_records; returns {table: DataFrame} for the curated tables.

    raw_records: DataFrame(arrival_hour, source_key, line_no, raw); hours: the arrival hours of the
    batch (each gets a row in `hours`, empty or not). No I/O.
    """
    previous = {k: spark.conf.get(k, None) for k in SQL_CONF}
    for k, v in SQL_CONF.items():
        spark.conf.set(k, v)
    try:
        raw_records.createOrReplaceTempView("raw_records")
        spark.createDataFrame([(h,) for h in hours], "arrival_hour STRING").createOrReplaceTempView("etl_hours")
        outputs = {}
        for name, is_output, sql in Expander("spark", sql_dir).steps({"processed_at": processed_at}):
            df = spark.sql(sql)
            if is_output:
                outputs[name] = df
            else:
                # Intermediates are read by several outputs: compute them once.
                df = df.persist()
                df.createOrReplaceTempView(name)
        return outputs
    finally:
        for k, v in previous.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


# ---- load --------------------------------------------------------------------------------------

TABLE_KEYS = {
    "categories": ["category_id"],
    "groups": ["group_id"],
    "venues": ["venue_key"],
    "events": ["event_id"],
    "event_changes": ["event_id", "mtime"],
    "fees": ["event_id"],
    "quarantine": ["source_key", "line_no"],
    "hours": [],
}


def load(spark, outputs, out, units):
    """Writes each table as one Parquet file per unit under out/<table>/_unit=<unit>/, rows in hour
    and key order like the DuckDB engine writes them; returns [(table, unit, path, rows)]."""
    units_df = spark.createDataFrame(sorted(units.items()), "arrival_hour STRING, _unit STRING")
    files = []
    for table in CURATED_TABLES:
        df = outputs[table]
        cols = df.columns
        df = df.join(F.broadcast(units_df), "arrival_hour").select(*cols, "_unit").persist()
        counts = {r["_unit"]: r["count"] for r in df.groupBy("_unit").count().collect()}
        if not counts:
            df.unpersist()
            continue
        target = f"{out}/{table}"
        (
            df.repartition("_unit")
            .sortWithinPartitions("_unit", "arrival_hour", *[k for k in TABLE_KEYS[table] if k != "arrival_hour"])
            .write.mode("overwrite")
            .option("compression", "zstd")
            .partitionBy("_unit")
            .parquet(target)
        )
        df.unpersist()
        for unit, rows in sorted(counts.items()):
            fs, path = _fs(spark, f"{target}/_unit={unit}")
            parts = [st.getPath().toString() for st in fs.listStatus(path) if st.getPath().getName().endswith(".parquet")]
            if len(parts) != 1:
                raise RuntimeError(f"expected one file for {table} unit {unit}, found {len(parts)}")
            files.append((table, unit, parts[0], rows))
    return files


def run_batch(spark, batch, out, sql_dir, processed_at, lake=None):
    """One batch: extract, transform, load; prints its JSON lines (and returns them). With `lake`,
    each file is published into the lake under its content-named key (see `publish`)."""
    index = batch["index"]
    lines = []

    def say(obj):
        lines.append(obj)
        emit(obj)

    raw_records, errors = extract(spark, batch["inputs"])
    for hour, error in sorted(errors.items()):
        say({"batch": index, "hour": hour, "error": error})
    hours = [h for h in batch["hours"] if h not in errors]
    if hours:
        units = {h: batch["units"][h] for h in hours}
        outputs = transform(spark, raw_records, hours, processed_at, sql_dir)
        for table, unit, path, rows in load(spark, outputs, f"{out}/batch-{index}", units):
            unit_hours = sorted(h for h in hours if units[h] == unit)
            line = {"batch": index, "table": table, "unit": unit, "hours": unit_hours, "rows": rows}
            if lake:
                key, size = publish(spark, path, lake, table, unit_hours)
                line.update({"key": key, "bytes": size})
            else:
                line["file"] = path
            say(line)
        for row in outputs["hours"].collect():
            say({
                "batch": index,
                "hour": row["arrival_hour"],
                "raw_records": row["raw_records"],
                "valid_records": row["valid_records"],
                "quarantined": row["quarantined"],
            })
    spark.catalog.clearCache()
    return lines


def segment_key(table, hours, sha256):
    """The content-addressed key of a segment file (src/etl/segments.ts segmentFileKey)."""
    return f"curated/{table}/{hours[0]}_{hours[-1]}-{sha256[:16]}.parquet"


def publish(spark, url, lake, table, hours):
    """Moves a written file into the lake under its content-named key; returns (key, bytes). The
    caller's commit (the table manifest) is what makes it live; an uncommitted one is swept."""
    import hashlib

    digest, size = spark.sparkContext.binaryFiles(url).map(lambda kv: (hashlib.sha256(bytes(kv[1])).hexdigest(), len(kv[1]))).first()
    key = segment_key(table, hours, digest)
    fs, src = _fs(spark, url)
    dst = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(f"{lake}/{key}")
    if not lake.startswith("s3"):
        fs.mkdirs(dst.getParent())  # a folder for file:// (an object store has none: s3a would write a marker object)
    # Same name, same content: a file already there (an earlier attempt) is this one.
    if not fs.rename(src, dst) and not fs.exists(dst):
        raise RuntimeError(f"cannot move {url} to {lake}/{key}")
    fs.delete(src, False)
    return key, size


def read_text(spark, url):
    """A small text file from a local path or any Hadoop URL (s3://, file://)."""
    if "://" not in url:
        with open(url, encoding="utf-8") as f:
            return f.read()
    fs, path = _fs(spark, hadoop_url(url))
    stream = fs.open(path)
    try:
        return spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def write_text(spark, url, text):
    """Writes a small text file through Hadoop (s3://: one PUT when closed, so readers see it whole)."""
    fs, path = _fs(spark, hadoop_url(url))
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def emit(obj):
    print(json.dumps(obj), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", required=True, help="the batches (JSON, a path or s3:// URL): {id?, batches: [{index, hours, units, inputs: [{hour, key, url}]}]} or the list alone")
    parser.add_argument("--out", required=True, help="where the files are written: file:///abs/path or s3://...")
    parser.add_argument("--publish", default=None, help="the lake (s3://bucket/prefix): move each file to its content-named key there")
    parser.add_argument("--results", default=None, help="also write each batch's lines to <results>/batch-<index>.json (for a caller that cannot read stdout: EMR)")
    parser.add_argument("--sql-dir", default=DEFAULT_SQL_DIR, help="the shared SQL (default: src/etl/sql of this checkout)")
    parser.add_argument("--processed-at", default=None, help="UTC timestamp recorded in the hours table (default: now)")
    parser.add_argument("--master", default=None, help="Spark master when not given to spark-submit")
    args = parser.parse_args(argv)

    processed_at = args.processed_at or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    out = hadoop_url(args.out)
    lake = hadoop_url(args.publish) if args.publish else None

    spark = build_session(master=args.master)
    try:
        plan = json.loads(read_text(spark, args.plan))
        plan_id = plan.get("id") if isinstance(plan, dict) else None
        batches = plan["batches"] if isinstance(plan, dict) else plan
        for batch in batches:
            for h in batch["hours"]:
                hour_path(h)
        for batch in batches:
            try:
                lines = run_batch(spark, batch, out, args.sql_dir, processed_at, lake)
                lines.append({"batch": batch["index"], "done": True})
                emit(lines[-1])
            except Exception as e:  # noqa: BLE001 - a failed batch is reported; the caller splits it
                lines = [{"batch": batch["index"], "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:2000]}]
                emit(lines[0])
            if args.results:
                write_text(spark, f"{args.results.rstrip('/')}/batch-{batch['index']}.json", json.dumps({"plan": plan_id, "lines": lines}))
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
