"""The classifier on Spark ML: outdoors-adventure vs tech from event text.

The same steps as the embedded engine (src/ml), as one ML Pipeline:
RegexTokenizer (runs of Unicode letters, lower case, length >= 2) -> StopWordsRemover (the
shared lists in src/ml/stopwords/*.txt, label words included) -> CountVectorizer (vocabulary by
frequency, minDF) -> IDF -> RandomForestClassifier. The train/test split is computed once by the
caller (openevents ml train --engine spark) and arrives as a `split` column, so both engines see
the same split; metrics are computed by the caller from the predictions this job writes.

pyspark.ml's Python wrappers import numpy, which the project's environment does not ship, so
the job drives the very same Spark ML classes (org.apache.spark.ml.*) through the session's JVM
gateway: one Pipeline, fitted, saved and loaded by Spark itself, with nothing beyond pyspark.

  ml.py train   --input rows.ndjson --output DIR [--vocabulary N --min-df N --trees N
                --max-depth N --features-per-split N --seed N --max-bins N --stopwords-dir DIR]
  ml.py predict --model DIR --input rows.ndjson --output DIR

Input rows: {"event_id", "group_id", "label" (0 outdoors-adventure, 1 tech), "text", "split"}.
train writes DIR/model (the fitted PipelineModel), DIR/predictions.json (test rows:
event_id, label, probability = P(tech)), DIR/top_words.json and DIR/summary.json.
predict writes DIR/predictions.json for every input row.
"""
import argparse
import json
import os
import sys

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.classic.column import Column

DEFAULT_STOPWORDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "ml", "stopwords")

INPUT_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField("group_id", T.LongType()),
        T.StructField("label", T.DoubleType()),
        T.StructField("text", T.StringType()),
        T.StructField("split", T.StringType()),
    ]
)


def load_stop_words(directory: str) -> list:
    """Every word of every *.txt list in `directory` (one a line, '#' comments), sorted, unique."""
    words = set()
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            for line in handle:
                word = line.strip().lower()
                if word and not word.startswith("#"):
                    words.add(word)
    return sorted(words)


def _ml(spark: SparkSession):
    """The org.apache.spark.ml package of the session's JVM."""
    return spark.sparkContext._jvm.org.apache.spark.ml


def _java_array(spark: SparkSession, java_class, items: list):
    array = spark.sparkContext._gateway.new_array(java_class, len(items))
    for i, item in enumerate(items):
        array[i] = item
    return array


def build_pipeline(spark: SparkSession, stop_words: list, vocabulary: int, min_df: int, trees: int, max_depth: int,
                   features_per_split: int, seed: int, max_bins: int = 32):
    """The text pipeline (a JVM Pipeline): tokens -> words -> tf -> features (tf-idf) -> random forest."""
    ml = _ml(spark)
    jvm = spark.sparkContext._jvm
    tokenizer = (ml.feature.RegexTokenizer().setInputCol("text").setOutputCol("tokens")
                 .setPattern(r"\p{L}+").setGaps(False).setToLowercase(True).setMinTokenLength(2))
    remover = (ml.feature.StopWordsRemover().setInputCol("tokens").setOutputCol("words")
               .setStopWords(_java_array(spark, jvm.java.lang.String, stop_words)).setCaseSensitive(False)
               .setLocale("en"))
    counts = ml.feature.CountVectorizer().setInputCol("words").setOutputCol("tf").setVocabSize(vocabulary).setMinDF(float(min_df))
    idf = ml.feature.IDF().setInputCol("tf").setOutputCol("features")
    forest = (ml.classification.RandomForestClassifier().setLabelCol("label").setFeaturesCol("features")
              .setNumTrees(trees).setMaxDepth(min(max_depth, 30))
              .setFeatureSubsetStrategy("sqrt" if features_per_split <= 0 else str(features_per_split))
              .setMaxBins(max_bins).setSeed(seed).setImpurity("gini"))
    stages = _java_array(spark, ml.PipelineStage, [tokenizer, remover, counts, idf, forest])
    return ml.Pipeline().setStages(stages)


def fit(spark: SparkSession, pipeline, rows: DataFrame):
    """Fits the JVM pipeline on a DataFrame; returns the JVM PipelineModel."""
    return pipeline.fit(rows._jdf)


def load_model(spark: SparkSession, path: str):
    return _ml(spark).PipelineModel.load(path)


def predictions(spark: SparkSession, model, rows: DataFrame) -> DataFrame:
    """event_id, label and P(tech) for each row."""
    scored = DataFrame(model.transform(rows._jdf), spark)
    probability = _ml(spark).functions.vector_to_array(scored._jdf.col("probability"), "float64")
    return scored.withColumn("p", _column(probability)).select(
        F.col("event_id"),
        F.col("label").cast("int").alias("label"),
        F.col("p").getItem(1).alias("probability"),
    )


def _column(java_column) -> Column:
    """A Python Column around a JVM Column (pyspark 4's classic API)."""
    return Column(java_column)


def top_words(model, n: int = 50) -> list:
    """The n words with the largest feature importance (mean decrease in impurity)."""
    stages = model.stages()
    vocabulary = list(stages[2].vocabulary())
    importances = list(stages[len(stages) - 1].featureImportances().toArray())
    ranked = sorted(((float(v), vocabulary[i]) for i, v in enumerate(importances) if v > 0), key=lambda p: (-p[0], p[1]))
    return [{"word": word, "importance": value} for value, word in ranked[:n]]


def read_rows(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.schema(INPUT_SCHEMA).json(path)


def write_json(path: str, value) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    os.replace(tmp, path)


def collect_predictions(frame: DataFrame) -> list:
    return [{"event_id": r["event_id"], "label": r["label"], "probability": r["probability"]} for r in frame.collect()]


def train(spark: SparkSession, args) -> None:
    rows = read_rows(spark, args.input).cache()
    train_rows = rows.where(F.col("split") == "train")
    test_rows = rows.where(F.col("split") == "test")
    pipeline = build_pipeline(spark, load_stop_words(args.stopwords_dir), args.vocabulary, args.min_df, args.trees,
                              args.max_depth, args.features_per_split, args.seed, args.max_bins)
    model = fit(spark, pipeline, train_rows)
    os.makedirs(args.output, exist_ok=True)
    model.write().overwrite().save(os.path.join(args.output, "model"))
    write_json(os.path.join(args.output, "predictions.json"), collect_predictions(predictions(spark, model, test_rows)))
    write_json(os.path.join(args.output, "top_words.json"), top_words(model))
    write_json(os.path.join(args.output, "summary.json"), {
        "trainRows": train_rows.count(), "testRows": test_rows.count(), "vocabulary": len(model.stages()[2].vocabulary()),
    })


def predict(spark: SparkSession, args) -> None:
    model = load_model(spark, args.model)
    os.makedirs(args.output, exist_ok=True)
    write_json(os.path.join(args.output, "predictions.json"),
               collect_predictions(predictions(spark, model, read_rows(spark, args.input))))


def parse_args(argv: list):
    parser = argparse.ArgumentParser(prog="ml.py", description="outdoors-adventure vs tech classifier on Spark ML")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--input", required=True)
    t.add_argument("--output", required=True)
    t.add_argument("--stopwords-dir", default=DEFAULT_STOPWORDS_DIR)
    t.add_argument("--vocabulary", type=int, default=2000)
    t.add_argument("--min-df", type=int, default=3)
    t.add_argument("--trees", type=int, default=100)
    t.add_argument("--max-depth", type=int, default=20)
    t.add_argument("--features-per-split", type=int, default=0)
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--max-bins", type=int, default=32)
    p = sub.add_parser("predict")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    spark = SparkSession.builder.appName(f"openevents-ml-{args.command}").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        (train if args.command == "train" else predict)(spark, args)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
