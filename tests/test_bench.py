"""The benchmark's metric and a smoke run of `make bench` (the real figures come from the full run, not CI)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.bench import body_scores, leaks, tp_fp_fn

from .conftest import ROOT


def test_shingle_metric_counts_shared_extra_and_missing_shingles():
    truth = "satu dua tiga empat lima"  # shingles: (1-4), (2-5)
    assert tp_fp_fn(truth, truth) == (1.0, 0.0, 0.0)
    # One shared shingle, one missing, three extra from the appended words.
    tp, fp, fn = tp_fp_fn(truth, "satu dua tiga empat enam tujuh delapan")
    assert (tp, fp, fn) == pytest.approx((1 / 5, 3 / 5, 1 / 5))
    assert tp_fp_fn(truth, "") == (0.0, 0.0, 1.0)


def test_corpus_scores_are_means_over_documents():
    scores = body_scores([("a b c d e", "a b c d e"), ("a b c d e", "")])
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5 and scores["exact"] == 0.5
    assert scores["f1"] == pytest.approx(0.5)


def test_leaks_count_only_boilerplate_the_true_body_does_not_have():
    assert leaks("tribun", "Isi berita.", "Isi berita.\nBaca juga: lain\nHalaman 2") == 2
    assert leaks("tribun", "Sumber: BPS menyebut", "Sumber: BPS menyebut") == 0


def test_bench_smoke_run_writes_its_report(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tools.bench", "--smoke", "--output", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    newsbot = report["accuracy"]["newsbot"]["body"]["overall"]
    # newsbot's replayed records are its expected.json (tests/test_fixtures.py), so it must score them perfectly:
    # anything less means the bench paired records and cases wrongly.
    assert newsbot["documents"] >= 7 and newsbot["f1"] == 1.0 and newsbot["exact"] == 1.0 and newsbot["leaks"] == 0
    assert "trafilatura" in report["accuracy"]
    assert report["speed"]["newsbot_ms"] > 0 and report["speed"]["trafilatura_ms"] > 0
    [run] = report["end_to_end"]
    assert run["records"] == 120 and run["pages"] >= 120
    feeds = report["feeds"]
    assert feeds["records"] == 120 and not feeds["failed"]
    assert set(feeds["cpu_seconds"]) == {"none", "jsonl", "parquet"} and feeds["ratio_to_jsonl_cpu"]["parquet"] > 0
    assert feeds["exporter_ms_per_record"]["parquet"] > 0 and "Feed formats" in proc.stdout
    assert feeds["startup_seconds"]["parquet"] > 0 and 0 < feeds["estimated_added_to_crawl"]["parquet"] < 1
    assert "Body accuracy" in proc.stdout


def test_rounds_report_the_fastest_round_and_the_worst_memory_and_failure(monkeypatch):
    import tools.bench as bench

    runs = iter([
        {"site": "a", "exit": 0, "pages": 10, "records": 10, "seconds": 2.0, "pages_per_s": 5.0,
         "peak_rss_mb": 100.0, "rss_mb_at": {}, "rss_growth_1000_2000_mb": 0.5, "log_tail": ""},
        {"site": "a", "exit": 1, "pages": 10, "records": 9, "seconds": 1.0, "pages_per_s": 10.0,
         "peak_rss_mb": 120.0, "rss_mb_at": {}, "rss_growth_1000_2000_mb": 2.0, "log_tail": "boom"},
    ])
    monkeypatch.setattr(bench, "end_to_end", lambda site, pages, fixtures: next(runs))
    [summary] = bench.end_to_end_rounds(["a"], 10, 2)
    assert summary["pages_per_s"] == 10.0 and summary["pages_per_s_runs"] == [5.0, 10.0]
    assert summary["peak_rss_mb"] == 120.0 and summary["rss_growth_1000_2000_mb"] == 2.0
    assert summary["records"] == 9 and summary["exit"] == 1 and summary["log_tail"] == "boom"
