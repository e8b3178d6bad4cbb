"""The classifier on Spark ML: outdoors-adventure vs tech from event text.

The same steps as the embedded engine (src/ml), as one pyspark.ml Pipeline:
RegexTokenizer (runs of Unicode letters, lower case, length >= 2) -> StopWordsRemover (the
shared lists in src/ml/stopwords/*.txt, label words included) -> CountVectorizer (vocabulary by
frequency, minDF) -> IDF -> RandomForestClassifier (seeded). The train/test split is computed once
by the caller (openevents ml train --engine spark) and arrives as a `split` column, so both engines
see the same split; metrics are computed by the caller from the predictions this job writes.

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

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import RandomForestClassifier
from pyspark.ml.feature import IDF, CountVectorizer, RegexTokenizer, StopWordsRemover
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

DEFAULT_STOPWORDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "ml", "stopwords")

# Spark's trees refuse deeper ones.
SPARK_MAX_DEPTH = 30

INPUT_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField("group_id", T.LongType()),
        T.StructField("label", T.DoubleType()),
        T.StructField("text", T.StringType()),
        T.StructField("split", T.StringType()),
    ]
)

# Stage positions in the fitted PipelineModel.
VECTORIZER_STAGE = 2
FOREST_STAGE = 4


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


def build_pipeline(stop_words: list, vocabulary: int, min_df: int, trees: int, max_depth: int,
                   features_per_split: int, seed: int, max_bins: int = 32) -> Pipeline:
    """The text pipeline: text -> tokens -> words -> tf -> features (tf-idf) -> random forest."""
    tokenizer = RegexTokenizer(inputCol="text", outputCol="tokens", pattern=r"\p{L}+", gaps=False,
                               toLowercase=True, minTokenLength=2)
    remover = StopWordsRemover(inputCol="tokens", outputCol="words", stopWords=stop_words, caseSensitive=False,
                               locale="en")
    counts = CountVectorizer(inputCol="words", outputCol="tf", vocabSize=vocabulary, minDF=float(min_df))
    idf = IDF(inputCol="tf", outputCol="features")
    forest = RandomForestClassifier(
        labelCol="label", featuresCol="features", numTrees=trees, maxDepth=min(max_depth, SPARK_MAX_DEPTH),
        featureSubsetStrategy="sqrt" if features_per_split <= 0 else str(features_per_split),
        maxBins=max_bins, impurity="gini", seed=seed,
    )
    return Pipeline(stages=[tokenizer, remover, counts, idf, forest])


def split_rows(rows: DataFrame) -> tuple:
    """(train rows, test rows) by the caller's `split` column."""
    return rows.where(F.col("split") == "train"), rows.where(F.col("split") == "test")


def fit(pipeline: Pipeline, rows: DataFrame) -> PipelineModel:
    """Fits the pipeline on labelled rows."""
    return pipeline.fit(rows)


def predictions(model: PipelineModel, rows: DataFrame) -> DataFrame:
    """event_id, label (int) and probability = P(tech) for each row."""
    return model.transform(rows).select(
        F.col("event_id"),
        F.col("label").cast("int").alias("label"),
        vector_to_array(F.col("probability"), "float64").getItem(1).alias("probability"),
    )


def vocabulary(model: PipelineModel) -> list:
    """The terms the CountVectorizer kept, in feature-index order."""
    return list(model.stages[VECTORIZER_STAGE].vocabulary)


def top_words(model: PipelineModel, n: int = 50) -> list:
    """The n words with the largest feature importance (mean decrease in impurity), ties by word."""
    terms = vocabulary(model)
    importances = model.stages[FOREST_STAGE].featureImportances.toArray()
    ranked = sorted(((float(v), terms[i]) for i, v in enumerate(importances) if v > 0), key=lambda p: (-p[0], p[1]))
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
    """Reads the rows, fits on the train side, saves the model and writes the test side's predictions."""
    rows = read_rows(spark, args.input).cache()
    train_rows, test_rows = split_rows(rows)
    pipeline = build_pipeline(load_stop_words(args.stopwords_dir), args.vocabulary, args.min_df, args.trees,
                              args.max_depth, args.features_per_split, args.seed, args.max_bins)
    model = fit(pipeline, train_rows)
    os.makedirs(args.output, exist_ok=True)
    model.write().overwrite().save(os.path.join(args.output, "model"))
    write_json(os.path.join(args.output, "predictions.json"), collect_predictions(predictions(model, test_rows)))
    write_json(os.path.join(args.output, "top_words.json"), top_words(model))
    write_json(os.path.join(args.output, "summary.json"), {
        "trainRows": train_rows.count(), "testRows": test_rows.count(), "vocabulary": len(vocabulary(model)),
    })


def predict(spark: SparkSession, args) -> None:
    """Scores every input row with a saved PipelineModel."""
    model = PipelineModel.load(args.model)
    os.makedirs(args.output, exist_ok=True)
    write_json(os.path.join(args.output, "predictions.json"),
               collect_predictions(predictions(model, read_rows(spark, args.input))))


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
