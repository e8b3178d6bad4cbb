"""Tests of spark/jobs/ml.py: the shared stop words, the pipeline's text steps, and a tiny fit."""
import json
import os

from pyspark.sql import types as T

from jobs import ml

STOPWORDS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "src", "ml", "stopwords")


def rows(spark, data):
    return spark.createDataFrame(data, ml.INPUT_SCHEMA)


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


def test_pipeline_tokenizes_letters_lower_case_and_drops_stop_and_label_words(spark):
    # Given a pipeline fitted on two rows
    pipeline = ml.build_pipeline(spark, ml.load_stop_words(STOPWORDS_DIR), vocabulary=50, min_df=1, trees=2,
                                 max_depth=2, features_per_split=0, seed=1)
    data = rows(spark, [
        ("e1", 1, 0.0, "Hike MOUNT-Si (8 miles) the Über Café a Outdoors adventure", "train"),
        ("e2", 2, 1.0, "Python & Tech talks: und los les", "train"),
    ])
    model = ml.fit(spark, pipeline, data)
    # When the text steps run
    words = ml.DataFrame(model.transform(data._jdf), spark).select("event_id", "words").orderBy("event_id").collect()
    # Then only lower-case letter runs of length >= 2 that are not stop or label words remain
    # ("si" is a Spanish and Italian stop word, "über" a German one)
    assert [list(r["words"]) for r in words] == [["hike", "mount", "miles", "café"], ["python", "talks"]]


def test_fit_predict_and_top_words_on_separable_text(spark, tmp_path):
    # Given clearly separable training rows (two groups per class) and two test rows
    train = []
    for i in range(40):
        if i % 2 == 0:
            train.append((f"o{i}", 100 + i % 4, 0.0, "hike trail summit river camping miles", "train"))
        else:
            train.append((f"t{i}", 200 + i % 4, 1.0, "python data software developers api cloud", "train"))
    test = [("x1", 300, 0.0, "a long hike on the river trail", "test"), ("x2", 301, 1.0, "software developers talk about api", "test")]
    path = tmp_path / "rows.ndjson"
    path.write_text("".join(json.dumps(dict(zip(["event_id", "group_id", "label", "text", "split"], r))) + "\n" for r in train + test))

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

    # When the job's train step runs
    ml.train(spark, Args)
    # Then the test rows are predicted right, with probabilities, and the top words are topic words
    predictions = {p["event_id"]: p for p in json.loads((tmp_path / "out" / "predictions.json").read_text())}
    assert set(predictions) == {"x1", "x2"}
    assert predictions["x1"]["probability"] < 0.5 < predictions["x2"]["probability"]
    assert predictions["x2"]["label"] == 1
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary == {"trainRows": 40, "testRows": 2, "vocabulary": 12}
    top = json.loads((tmp_path / "out" / "top_words.json").read_text())
    assert top and {w["word"] for w in top} <= {"hike", "trail", "summit", "river", "camping", "miles",
                                               "python", "data", "software", "developers", "api", "cloud"}

    # And the saved model scores the same rows the same way through the predict step
    class PredictArgs:
        model = str(tmp_path / "out" / "model")
        input = str(path)
        output = str(tmp_path / "again")

    ml.predict(spark, PredictArgs)
    again = {p["event_id"]: p for p in json.loads((tmp_path / "again" / "predictions.json").read_text())}
    assert again["x1"]["probability"] == predictions["x1"]["probability"]
    assert again["x2"]["probability"] == predictions["x2"]["probability"]
