"""`rag bench retrieval` on a tiny SciFact-shaped dataset generated here (BEIR layout)."""

import json

from click.testing import CliRunner

from rag.cli import main

ABSTRACTS = {
    "101": ("Vitamin D and bone density", "Vitamin D supplements increased bone mineral density in "
            "elderly women over two years. Fracture rates fell in the treated group."),
    "102": ("Sleep loss impairs memory", "Adults deprived of sleep for one night recalled fewer words. "
            "Hippocampal activity was lower after sleep deprivation."),
    "103": ("Coffee and liver disease", "Drinking coffee was associated with lower rates of liver "
            "cirrhosis in a cohort of 100,000 adults."),
    "104": ("Exercise reduces blood pressure", "Aerobic exercise lowered systolic blood pressure by "
            "five points in patients with hypertension."),
    "105": ("Gut bacteria and obesity", "Mice colonised with gut microbes from obese donors gained "
            "more fat than mice given microbes from lean donors."),
}
CLAIMS = {"1": ("Lack of sleep harms memory recall.", "102"),
          "2": ("Coffee protects the liver from cirrhosis.", "103"),
          "3": ("Physical activity lowers hypertension.", "104")}


def _dataset(root):
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("\n".join(
        json.dumps({"_id": i, "title": t, "text": x}) for i, (t, x) in ABSTRACTS.items()))
    (root / "queries.jsonl").write_text("\n".join(
        json.dumps({"_id": q, "text": c, "metadata": {}}) for q, (c, _) in CLAIMS.items()))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t1\n" for q, (_, d) in CLAIMS.items()))
    return root


def test_bench_retrieval_scores_three_methods_and_reuses_the_index(tmp_path):
    dataset = _dataset(tmp_path / "tiny")
    args = ["bench", "retrieval", "--dataset", str(dataset), "--work", str(tmp_path / "work"),
            "--json", "--quiet"]
    first = CliRunner().invoke(main, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    record = json.loads(first.stdout)
    assert set(record["results"]) == {"lexical", "dense", "hybrid"}
    for method, r in record["results"].items():
        assert r["queries"] == 3
        assert r["recall@100"] == 1.0                  # five documents: everything is retrieved
        assert 0.5 <= r["ndcg@10"] <= 1.0, (method, r)
    assert record["results"]["dense"]["ndcg@10"] == 1.0   # paraphrased claims: MiniLM finds them
    chunks = record["index"]["embedded_chunks"]
    assert chunks >= 5                                     # at least one per abstract

    again = json.loads(CliRunner().invoke(main, args, catch_exceptions=False).stdout)
    assert again["index"]["embedded_chunks"] == 0             # the home is reused
    assert {m: r["ndcg@10"] for m, r in again["results"].items()} == \
        {m: r["ndcg@10"] for m, r in record["results"].items()}

    # other chunk settings build another home; the embedding cache still knows every text
    # (these abstracts are one chunk each, whatever the overlap)
    rebuilt = json.loads(CliRunner().invoke(main, args + ["--set", "chunk_overlap=20"],
                                            catch_exceptions=False).stdout)
    assert rebuilt["index"]["embedded_chunks"] == chunks
    assert rebuilt["index"]["cache_misses"] == 0
    assert rebuilt["settings"]["chunk_overlap"] == 20


def test_bench_retrieval_rejects_a_missing_split(tmp_path):
    dataset = _dataset(tmp_path / "tiny")
    result = CliRunner().invoke(main, ["bench", "retrieval", "--dataset", str(dataset),
                                       "--split", "dev", "--work", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert "use --split with one of test" in result.output
