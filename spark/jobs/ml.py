"""The classifier on Spark ML: outdoors-adventure vs tech from event text.

The same steps as the embedded engine (src/ml), as one pyspark.ml Pipeline:
RegexTokenizer (runs of Unicode letters, lower case, length >= 2) -> StopWordsRemover (the
shared lists in src/ml/stopwords/*.txt, label words included), then

- rf: CountVectorizer (vocabulary by frequency, minDF) -> IDF -> RandomForestClassifier (seeded);
- lr, nb: [NGram(2) + concat: words and word pairs] -> CountVectorizer -> SublinearTf
  (1 + ln count) -> IDF -> Normalizer (unit length) -> LogisticRegression (L2, regParam,
  standardization off) or NaiveBayes (multinomial, smoothing), classes weighted equally
  (weightCol), as src/ml/model.ts does. The penalty arrives chosen (the caller's inner
  cross-validation), so both engines fit the same model.

The train/test split is computed once by the caller (openevents ml train --engine spark) and
arrives as a `split` column, so both engines see the same split; metrics are computed by the
caller from the predictions this job writes.

  ml.py train   --input rows.ndjson --output DIR [--model rf|lr|nb --vocabulary N --min-df N
                --ngrams 1|2 --reg-param X --smoothing X --trees N --max-depth N
                --features-per-split N --seed N --max-bins N --stopwords-dir DIR]
  ml.py predict --model DIR --input rows.ndjson --output DIR

Paths may be local or Hadoop URIs (s3://, read and written through s3a as spark/jobs/etl.py does):
on EMR the step reads its rows from the lake and writes its outputs there. `--model-dir` puts
the fitted model elsewhere than DIR/model (EMR: straight into the run's folder in the lake).

Input rows: {"event_id", "group_id", "label" (0 outdoors-adventure, 1 tech), "text", "split"}.
train writes DIR/model (the fitted PipelineModel), DIR/predictions.json (test rows:
event_id, label, probability = P(tech)), DIR/top_words.json and DIR/summary.json.
predict writes DIR/predictions.json for every input row.
"""
import argparse
import json
import math
import os
import sys

from pyspark import keyword_only
from pyspark.ml import Pipeline, PipelineModel, Transformer
from pyspark.ml.classification import LogisticRegression, NaiveBayes, RandomForestClassifier
from pyspark.ml.feature import (IDF, CountVectorizer, CountVectorizerModel, NGram, Normalizer, RegexTokenizer,
                                SQLTransformer, StopWordsRemover)
from pyspark.ml.functions import vector_to_array
from pyspark.ml.linalg import SparseVector, VectorUDT
from pyspark.ml.param.shared import HasInputCol, HasOutputCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from jobs.etl import configure, hadoop_url, write_text  # noqa: E402

DEFAULT_STOPWORDS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "ml", "stopwords")

# Spark's trees refuse deeper ones.
SPARK_MAX_DEPTH = 30

# L-BFGS iterations of LogisticRegression: each one is a pass over the data as a Spark job, so a
# cap keeps training time bounded (the embedded engine stops on its gradient; within 3 points).
MAX_ITERATIONS = 150

INPUT_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField("group_id", T.LongType()),
        T.StructField("label", T.DoubleType()),
        T.StructField("text", T.StringType()),
        T.StructField("split", T.StringType()),
    ]
)


class SublinearTf(Transformer, HasInputCol, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable):
    """Term counts -> 1 + ln(count) (sklearn's sublinear_tf; Spark ML has no such stage).

    Saved and loaded with the PipelineModel as a Python stage (DefaultParamsWritable)."""

    @keyword_only
    def __init__(self, inputCol=None, outputCol=None):
        super().__init__()
        self._set(**self._input_kwargs)

    def _transform(self, dataset):
        def sublinear(vector):
            sparse = vector if isinstance(vector, SparseVector) else SparseVector(len(vector), {i: v for i, v in enumerate(vector.toArray()) if v != 0})
            return SparseVector(sparse.size, sparse.indices, [1.0 + math.log(v) for v in sparse.values])

        return dataset.withColumn(self.getOutputCol(), F.udf(sublinear, VectorUDT())(F.col(self.getInputCol())))


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


def build_linear_pipeline(stop_words: list, model: str, vocabulary: int, min_df: int, ngrams: int, reg_param: float,
                          smoothing: float) -> Pipeline:
    """The linear models' pipeline: words (and word pairs) -> sublinear tf-idf of unit length -> lr or nb."""
    stages = [
        RegexTokenizer(inputCol="text", outputCol="tokens", pattern=r"\p{L}+", gaps=False, toLowercase=True,
                       minTokenLength=2),
        StopWordsRemover(inputCol="tokens", outputCol="words", stopWords=stop_words, caseSensitive=False, locale="en"),
    ]
    if ngrams == 2:
        stages += [NGram(n=2, inputCol="words", outputCol="pairs"),
                   SQLTransformer(statement="SELECT *, concat(words, pairs) AS terms FROM __THIS__")]
    else:
        stages.append(SQLTransformer(statement="SELECT *, words AS terms FROM __THIS__"))
    stages += [
        CountVectorizer(inputCol="terms", outputCol="tf", vocabSize=vocabulary, minDF=float(min_df)),
        SublinearTf(inputCol="tf", outputCol="ltf"),
        IDF(inputCol="ltf", outputCol="tfidf"),
        Normalizer(inputCol="tfidf", outputCol="features", p=2.0),
    ]
    if model == "lr":
        stages.append(LogisticRegression(labelCol="label", featuresCol="features", weightCol="weight", regParam=reg_param,
                                         elasticNetParam=0.0, standardization=False, maxIter=MAX_ITERATIONS, tol=1e-6))
    elif model == "nb":
        stages.append(NaiveBayes(labelCol="label", featuresCol="features", weightCol="weight", smoothing=smoothing,
                                 modelType="multinomial"))
    else:
        raise ValueError(f"unknown linear model {model!r}")
    return Pipeline(stages=stages)


def with_balanced_weights(rows: DataFrame) -> DataFrame:
    """A `weight` column giving each class half the total weight (sum = rows), as src/ml/model.ts does."""
    counts = {int(r["label"]): r["n"] for r in rows.groupBy("label").agg(F.count("*").alias("n")).collect()}
    total = sum(counts.values())
    w0 = total / (2 * max(1, counts.get(0, 0)))
    w1 = total / (2 * max(1, counts.get(1, 0)))
    return rows.withColumn("weight", F.when(F.col("label") == 1.0, F.lit(w1)).otherwise(F.lit(w0)))


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
    return list(next(s for s in model.stages if isinstance(s, CountVectorizerModel)).vocabulary)


def top_words(model: PipelineModel, n: int = 50) -> list:
    """The n words that weigh most, ties by word: the forest's feature importance (mean decrease in
    impurity), or a linear model's |weight| share (lr: coefficients; nb: log-odds of the two classes)."""
    terms = vocabulary(model)
    classifier = model.stages[-1]
    points = None
    if hasattr(classifier, "featureImportances"):
        weights = [float(v) for v in classifier.featureImportances.toArray()]
    else:
        if hasattr(classifier, "coefficients"):
            signed = [float(v) for v in classifier.coefficients.toArray()]
        else:
            theta = classifier.theta.toArray()
            signed = [float(theta[1][i] - theta[0][i]) for i in range(len(terms))]
        total = sum(abs(v) for v in signed) or 1.0
        weights = [abs(v) / total for v in signed]
        points = ["tech" if v > 0 else "outdoors-adventure" for v in signed]
    ranked = sorted(((v, terms[i], i) for i, v in enumerate(weights) if v > 0), key=lambda p: (-p[0], p[1]))
    return [{"word": word, "importance": value, **({"points": points[i]} if points else {})} for value, word, i in ranked[:n]]


def is_uri(path: str) -> bool:
    return "://" in path


def read_rows(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.schema(INPUT_SCHEMA).json(hadoop_url(path) if is_uri(path) else path)


def join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}" if is_uri(folder) else os.path.join(folder, name)


def write_json(spark: SparkSession, path: str, value) -> None:
    """A JSON file, whole or not at all: a local rename, or one object PUT when closed (s3://)."""
    if is_uri(path):
        write_text(spark, path, json.dumps(value))
        return
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    os.replace(tmp, path)


def prepare_output(path: str) -> None:
    if not is_uri(path):
        os.makedirs(path, exist_ok=True)


def collect_predictions(frame: DataFrame) -> list:
    return [{"event_id": r["event_id"], "label": r["label"], "probability": r["probability"]} for r in frame.collect()]


def train(spark: SparkSession, args) -> None:
    """Reads the rows, fits on the train side, saves the model and writes the test side's predictions."""
    rows = read_rows(spark, args.input).cache()
    train_rows, test_rows = split_rows(rows)
    stop_words = load_stop_words(args.stopwords_dir)
    if args.model == "rf":
        pipeline = build_pipeline(stop_words, args.vocabulary, args.min_df, args.trees, args.max_depth,
                                  args.features_per_split, args.seed, args.max_bins)
    else:
        pipeline = build_linear_pipeline(stop_words, args.model, args.vocabulary, args.min_df, args.ngrams,
                                         args.reg_param, args.smoothing)
        train_rows = with_balanced_weights(train_rows)
    model = fit(pipeline, train_rows)
    prepare_output(args.output)
    model_dir = getattr(args, "model_dir", None) or join(args.output, "model")
    model.write().overwrite().save(hadoop_url(model_dir) if is_uri(model_dir) else model_dir)
    write_json(spark, join(args.output, "predictions.json"), collect_predictions(predictions(model, test_rows)))
    write_json(spark, join(args.output, "top_words.json"), top_words(model))
    # Last: its presence says the outputs are complete.
    write_json(spark, join(args.output, "summary.json"), {
        "trainRows": train_rows.count(), "testRows": test_rows.count(), "vocabulary": len(vocabulary(model)),
    })


def predict(spark: SparkSession, args) -> None:
    """Scores every input row with a saved PipelineModel."""
    model = PipelineModel.load(hadoop_url(args.model) if is_uri(args.model) else args.model)
    prepare_output(args.output)
    write_json(spark, join(args.output, "predictions.json"),
               collect_predictions(predictions(model, read_rows(spark, args.input))))


def parse_args(argv: list):
    parser = argparse.ArgumentParser(prog="ml.py", description="outdoors-adventure vs tech classifier on Spark ML")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--input", required=True)
    t.add_argument("--output", required=True)
    t.add_argument("--model-dir", default=None, help="where the fitted model goes (default: OUTPUT/model)")
    t.add_argument("--stopwords-dir", default=DEFAULT_STOPWORDS_DIR)
    t.add_argument("--model", choices=["rf", "lr", "nb"], default="rf")
    t.add_argument("--ngrams", type=int, choices=[1, 2], default=1)
    t.add_argument("--reg-param", type=float, default=1e-5)
    t.add_argument("--smoothing", type=float, default=1.0)
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
    # s3:// paths go through s3a, at AWS_ENDPOINT_URL when one is set (an emulator), as in etl.py.
    spark = configure(SparkSession.builder.appName(f"openevents-ml-{args.command}"), os.environ).getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        (train if args.command == "train" else predict)(spark, args)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
