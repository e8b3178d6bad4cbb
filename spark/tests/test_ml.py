"""Tests of spark/jobs/ml.py: the shared stop words, the pyspark.ml pipeline's steps, and a tiny fit."""
import json
import math
import os
import sys

import pytest
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression, NaiveBayes, RandomForestClassifier
from pyspark.ml.feature import IDF, CountVectorizer, NGram, Normalizer, RegexTokenizer, SQLTransformer, StopWordsRemover
from pyspark.ml.linalg import SparseVector

from jobs import ml

# The linear pipelines run a Python UDF (SublinearTf) on Spark's workers: they must use this
# interpreter (the project's venv, with numpy), not whatever `python3` is first on PATH — as
# src/ml/spark.ts sets PYSPARK_PYTHON for spark-submit. Read when the session starts.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

STOPWORDS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "src", "ml", "stopwords")
COLUMNS = ["event_id", "group_id", "label", "text", "split"]


def rows(spark, data):
    return spark.createDataFrame(data, ml.INPUT_SCHEMA)


def write_rows(path, data):
    path.write_text("".join(json.dumps(dict(zip(COLUMNS, r))) + "\n" for r in data))


def test_stop_words_come_from_the_shared_files_without_comments():
    # Given the lists the TypeScript tokenizer also reads
    words = ml.load_stop_words(STOPWORDS_DIR)
    expected = set()
    for name in os.listdir(STOPWORDS_DIR):
        if name.endswith(".txt"):
            with open(os.path.join(STOPWORDS_DIR, name), encoding="utf-8") as handle:
                expected |= {line.strip() for line in handle if line.strip() and not line.startswith("#")}
    # Then every word of every list is there, the label words included, and nothing else
    assert set(words) == expected
    assert {"the", "und", "los", "les", "tech", "outdoors", "adventure"} <= set(words)
    assert not any(w.startswith("#") for w in words)


def test_pipeline_is_the_five_standard_stages_with_the_given_parameters_and_seed(spark):
    # When the pipeline is built (pyspark.ml stages need a running session, but nothing is fitted)
    pipeline = ml.build_pipeline(["the", "and"], vocabulary=123, min_df=4, trees=7, max_depth=45,
                                 features_per_split=0, seed=99, max_bins=16)
    stages = pipeline.getStages()
    # Then it is the documented pyspark.ml stage sequence
    assert isinstance(pipeline, Pipeline)
    assert [type(s) for s in stages] == [RegexTokenizer, StopWordsRemover, CountVectorizer, IDF, RandomForestClassifier]
    tokenizer, remover, counts, _, forest = stages
    assert (tokenizer.getPattern(), tokenizer.getGaps(), tokenizer.getMinTokenLength()) == (r"\p{L}+", False, 2)
    assert remover.getStopWords() == ["the", "and"]
    assert (counts.getVocabSize(), counts.getMinDF()) == (123, 4.0)
    # And the forest keeps its parameters, caps the depth at Spark's 30 and is seeded
    assert (forest.getNumTrees(), forest.getMaxDepth(), forest.getMaxBins()) == (7, 30, 16)
    assert forest.getFeatureSubsetStrategy() == "sqrt"
    assert forest.getSeed() == 99
    # And an explicit number of features per split is passed through
    explicit = ml.build_pipeline([], 10, 1, 2, 5, features_per_split=12, seed=1).getStages()[4]
    assert explicit.getFeatureSubsetStrategy() == "12"


def test_pipeline_tokenizes_letters_lower_case_and_drops_stop_and_label_words(spark):
    # Given a pipeline fitted on two rows
    pipeline = ml.build_pipeline(ml.load_stop_words(STOPWORDS_DIR), vocabulary=50, min_df=1, trees=2,
                                 max_depth=2, features_per_split=0, seed=1)
    data = rows(spark, [
        ("e1", 1, 0.0, "Hike MOUNT-Si (8 miles) the Über Café a Outdoors adventure", "train"),
        ("e2", 2, 1.0, "Python & Tech talks: und los les", "train"),
    ])
    model = ml.fit(pipeline, data)
    # When the text steps run
    words = model.transform(data).select("event_id", "words").orderBy("event_id").collect()
    # Then only lower-case letter runs of length >= 2 that are not stop or label words remain
    # ("si" is a Spanish and Italian stop word, "über" a German one)
    assert [list(r["words"]) for r in words] == [["hike", "mount", "miles", "café"], ["python", "talks"]]
    # And the vocabulary is exactly those six words
    assert sorted(ml.vocabulary(model)) == sorted(["hike", "mount", "miles", "café", "python", "talks"])


def test_split_rows_follows_the_split_column(spark):
    # Given rows the caller marked train or test
    data = rows(spark, [("a", 1, 0.0, "x", "train"), ("b", 2, 1.0, "y", "test"), ("c", 3, 1.0, "z", "train")])
    # When they are split
    train, test = ml.split_rows(data)
    # Then each side holds exactly its rows
    assert sorted(r["event_id"] for r in train.collect()) == ["a", "c"]
    assert [r["event_id"] for r in test.collect()] == ["b"]


def test_top_words_are_the_only_words_that_separate_the_classes(spark):
    # Given rows where every word but one per class is shared by both classes
    data = rows(spark, [
        (f"e{i}", i % 4, float(i % 2), ("hiking" if i % 2 == 0 else "kubernetes") + " meetup group friends", "train")
        for i in range(24)
    ])
    pipeline = ml.build_pipeline([], vocabulary=50, min_df=1, trees=5, max_depth=3, features_per_split=0, seed=7)
    # When the forest is fitted and its importances mapped through the vocabulary
    top = ml.top_words(ml.fit(pipeline, data))
    # Then only the separating words carry importance, and the importances sum to 1
    assert top and {w["word"] for w in top} <= {"hiking", "kubernetes"}
    assert abs(sum(w["importance"] for w in top) - 1.0) < 1e-9
    assert [w["importance"] for w in top] == sorted((w["importance"] for w in top), reverse=True)


def test_train_and_predict_steps_write_the_cli_contract_and_reload_the_model(spark, tmp_path):
    # Given clearly separable training rows (four groups per class) and two test rows
    train = []
    for i in range(40):
        if i % 2 == 0:
            train.append((f"o{i}", 100 + i % 4, 0.0, "hike trail summit river camping miles", "train"))
        else:
            train.append((f"t{i}", 200 + i % 4, 1.0, "python data software developers api cloud", "train"))
    test = [("x1", 300, 0.0, "a long hike on the river trail", "test"), ("x2", 301, 1.0, "software developers talk about api", "test")]
    path = tmp_path / "rows.ndjson"
    write_rows(path, train + test)

    class Args:
        input = str(path)
        output = str(tmp_path / "out")
        stopwords_dir = STOPWORDS_DIR
        vocabulary = 100
        min_df = 1
        trees = 10
        max_depth = 5
        features_per_split = 0
        seed = 3
        max_bins = 32
        model = "rf"
        ngrams = 1
        reg_param = 1e-5
        smoothing = 1.0

    # When the job's train step runs
    ml.train(spark, Args)
    # Then the test rows are predicted right, with probabilities, in the shape src/ml/spark.ts reads
    out = tmp_path / "out"
    predictions = {p["event_id"]: p for p in json.loads((out / "predictions.json").read_text())}
    assert set(predictions) == {"x1", "x2"}
    assert all(set(p) == {"event_id", "label", "probability"} for p in predictions.values())
    assert predictions["x1"]["probability"] < 0.5 < predictions["x2"]["probability"]
    assert (predictions["x1"]["label"], predictions["x2"]["label"]) == (0, 1)
    summary = json.loads((out / "summary.json").read_text())
    assert summary == {"trainRows": 40, "testRows": 2, "vocabulary": 12}
    top = json.loads((out / "top_words.json").read_text())
    assert top and all(set(w) == {"word", "importance"} for w in top)
    assert {w["word"] for w in top} <= {"hike", "trail", "summit", "river", "camping", "miles",
                                        "python", "data", "software", "developers", "api", "cloud"}
    assert (out / "model" / "metadata").is_dir()

    # And the saved model scores the same rows the same way through the predict step
    class PredictArgs:
        model = str(out / "model")
        input = str(path)
        output = str(tmp_path / "again")

    ml.predict(spark, PredictArgs)
    again = {p["event_id"]: p for p in json.loads((tmp_path / "again" / "predictions.json").read_text())}
    assert len(again) == 42
    assert again["x1"]["probability"] == predictions["x1"]["probability"]
    assert again["x2"]["probability"] == predictions["x2"]["probability"]


def test_linear_pipeline_is_words_and_pairs_sublinear_tfidf_of_unit_length_then_lr_or_nb(spark):
    # When the linear pipelines are built
    lr = ml.build_linear_pipeline(["the"], "lr", vocabulary=20000, min_df=2, ngrams=2, reg_param=1e-5, smoothing=1.0)
    nb = ml.build_linear_pipeline(["the"], "nb", vocabulary=500, min_df=1, ngrams=1, reg_param=1e-5, smoothing=0.5)
    # Then they are the documented stages, with the embedded engine's settings
    assert [type(s) for s in lr.getStages()] == [RegexTokenizer, StopWordsRemover, NGram, SQLTransformer, CountVectorizer,
                                                  ml.SublinearTf, IDF, Normalizer, LogisticRegression]
    assert [type(s) for s in nb.getStages()][-5:] == [CountVectorizer, ml.SublinearTf, IDF, Normalizer, NaiveBayes]
    model = lr.getStages()[-1]
    assert (model.getRegParam(), model.getElasticNetParam(), model.getStandardization(), model.getWeightCol()) == (1e-5, 0.0, False, "weight")
    assert lr.getStages()[-2].getP() == 2.0
    bayes = nb.getStages()[-1]
    assert (bayes.getSmoothing(), bayes.getModelType(), bayes.getWeightCol()) == (0.5, "multinomial", "weight")


def test_sublinear_tf_maps_counts_to_one_plus_log(spark):
    frame = spark.createDataFrame([(SparseVector(4, {0: 1.0, 2: 3.0}),)], ["tf"])
    out = ml.SublinearTf(inputCol="tf", outputCol="ltf").transform(frame).collect()[0]["ltf"]
    assert out.size == 4 and list(out.indices) == [0, 2]
    assert list(out.values) == pytest.approx([1.0, 1.0 + math.log(3.0)])


def test_balanced_weights_give_each_class_half_the_weight(spark):
    data = rows(spark, [("a", 1, 0.0, "x", "train"), ("b", 1, 0.0, "y", "train"), ("c", 1, 0.0, "z", "train"), ("d", 2, 1.0, "w", "train")])
    weights = {r["event_id"]: r["weight"] for r in ml.with_balanced_weights(data).collect()}
    assert weights == pytest.approx({"a": 4 / 6, "b": 4 / 6, "c": 4 / 6, "d": 2.0})


@pytest.mark.parametrize("model", ["lr", "nb"])
def test_linear_models_train_predict_and_reload_with_their_python_stage(spark, tmp_path, model):
    # Given separable rows with word pairs, more outdoors than tech rows
    train = [(f"o{i}", 100 + i % 4, 0.0, "hike the trail to the summit, river camping", "train") for i in range(30)]
    train += [(f"t{i}", 200 + i % 4, 1.0, "python data software: developers build an api", "train") for i in range(10)]
    test = [("x1", 300, 0.0, "a long hike on the river trail", "test"), ("x2", 301, 1.0, "software developers on the api", "test")]
    path = tmp_path / "rows.ndjson"
    write_rows(path, train + test)

    class Args:
        input = str(path)
        output = str(tmp_path / "out")
        stopwords_dir = STOPWORDS_DIR
        vocabulary = 200
        min_df = 1
        ngrams = 2
        reg_param = 1e-3
        smoothing = 1.0
        trees = max_depth = features_per_split = seed = max_bins = 0

    Args.model = model
    # When the job trains and scores
    ml.train(spark, Args)
    out = tmp_path / "out"
    predictions = {p["event_id"]: p["probability"] for p in json.loads((out / "predictions.json").read_text())}
    # Then the test rows are right, word pairs are in the vocabulary and the top words say which class they point to
    assert predictions["x1"] < 0.5 < predictions["x2"]
    top = json.loads((out / "top_words.json").read_text())
    assert any(" " in w["word"] for w in top)
    assert {w["points"] for w in top} == {"tech", "outdoors-adventure"}

    # And the saved PipelineModel, SublinearTf included, reloads and scores the same
    class PredictArgs:
        model = str(out / "model")
        input = str(path)
        output = str(tmp_path / "again")

    ml.predict(spark, PredictArgs)
    again = {p["event_id"]: p["probability"] for p in json.loads((tmp_path / "again" / "predictions.json").read_text())}
    assert again["x1"] == pytest.approx(predictions["x1"]) and again["x2"] == pytest.approx(predictions["x2"])
