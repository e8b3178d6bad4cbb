"""The curated-tables ETL on Spark: the same SQL (src/etl/sql/) as the embedded DuckDB engine.

    spark-submit --master 'local[*]' spark/jobs/etl.py --lake file:///abs/lake --hours 2015-03-08T06,...
    spark-submit spark/jobs/etl.py --lake s3://bucket/prefix --hours ...   (needs hadoop-aws; EMR has it)

main() = session -> extract (raw objects -> records) -> transform (pure: DataFrames in, DataFrames
out, no I/O) -> load (each hour's partition of every curated table replaced). One JSON line per
hour is printed to stdout with its counts.
"""
import argparse
import json
import os
import re
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

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


def list_raw_objects(spark, lake, hour):
    """Data objects of a raw hour (names starting with '_' or '.' are not data), in name order."""
    fs, path = _fs(spark, f"{lake}/raw/{hour_path(hour)}")
    if not fs.exists(path):
        return []
    names = []
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if status.isFile() and not name.startswith("_") and not name.startswith("."):
            names.append(status.getPath().toString())
    return sorted(names)


def source_key(path):
    """The object's key relative to the lake root: raw/YYYY/MM/DD/HH/<name>."""
    return "/".join(path.rstrip("/").split("/")[-6:])


def records_of(hour, path, data):
    key = source_key(path)
    return [(hour, key, i + 1, rec) for i, rec in enumerate(frame_records(bytes(data)))]


def extract(spark, lake, hours):
    """raw_records(arrival_hour, source_key, line_no, raw) of the hours' raw objects."""
    paths = {}
    for hour in hours:
        for p in list_raw_objects(spark, lake, hour):
            paths[p] = hour
    if not paths:
        return spark.createDataFrame([], RAW_SCHEMA)
    ship_jobs_package(spark)
    by_path = dict(paths)
    # One partition per raw object: objects are rotated well below a partition's comfortable size.
    rdd = spark.sparkContext.binaryFiles(",".join(paths.keys()), minPartitions=len(paths)).flatMap(
        lambda kv: records_of(_hour_for(by_path, kv[0]), kv[0], kv[1])
    )
    return spark.createDataFrame(rdd, RAW_SCHEMA)


def _hour_for(by_path, path):
    if path in by_path:
        return by_path[path]
    # binaryFiles may spell the URI differently (file:/x vs file:///x): match on the key.
    key = source_key(path)
    for p, hour in by_path.items():
        if source_key(p) == key:
            return hour
    raise KeyError(path)


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


def load(spark, outputs, lake, hours):
    """Replaces each hour's partition of every table: the old partition is removed, then written."""
    for table in CURATED_TABLES:
        base = f"{lake}/curated/{table}"
        for hour in hours:
            fs, path = _fs(spark, f"{base}/arrival_hour={hour}")
            if fs.exists(path):
                fs.delete(path, True)
        df = outputs[table]
        # One file per hour, rows in key order, like the DuckDB engine writes them.
        df = df.repartition("arrival_hour")
        if TABLE_KEYS[table]:
            df = df.sortWithinPartitions(*TABLE_KEYS[table])
        df.write.mode("append").partitionBy("arrival_hour").parquet(base)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", required=True, help="file:///abs/path or s3://bucket/prefix")
    parser.add_argument("--hours", required=True, help="comma-separated UTC arrival hours YYYY-MM-DDTHH")
    parser.add_argument("--sql-dir", default=DEFAULT_SQL_DIR, help="the shared SQL (default: src/etl/sql of this checkout)")
    parser.add_argument("--processed-at", default=None, help="UTC timestamp recorded in the hours table (default: now)")
    parser.add_argument("--master", default=None, help="Spark master when not given to spark-submit")
    args = parser.parse_args(argv)

    hours = sorted(set(h for h in args.hours.split(",") if h))
    for h in hours:
        hour_path(h)
    processed_at = args.processed_at or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    lake = hadoop_url(args.lake)

    spark = build_session(master=args.master)
    try:
        raw_records = extract(spark, lake, hours)
        outputs = transform(spark, raw_records, hours, processed_at, args.sql_dir)
        load(spark, outputs, lake, hours)
        for row in outputs["hours"].collect():
            print(json.dumps({
                "hour": row["arrival_hour"],
                "raw_records": row["raw_records"],
                "valid_records": row["valid_records"],
                "quarantined": row["quarantined"],
            }), flush=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
