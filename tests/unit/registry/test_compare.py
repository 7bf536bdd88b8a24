"""shared/registry/compare.py: where a version's answer is found, agreement and its matrix."""

from __future__ import annotations

from shared.registry.compare import answer_of, compare, format_table


def served(version: str, label: str, confidence: float, **extra: object) -> dict:
    return {"status": "done", "label": label, "confidence": confidence, "model": {"version": version},
            "timings": {"inference_ms": 1.0}, **extra}  # fmt: skip


def test_an_answer_is_found_served_in_the_shadow_or_in_the_scores() -> None:
    document = served("1", "dry", 0.9, shadow={"model": {"version": "2"}, "label": "wet", "confidence": 0.8},
                      scores={"3": {"label": "dry", "confidence": 0.7, "inference_ms": 2.0}})  # fmt: skip
    assert [answer_of(document, v)["source"] for v in ("1", "2", "3")] == ["served", "shadow", "rescore"]
    assert answer_of(document, "4") is None
    assert answer_of({**document, "status": "failed"}, "1") is None


def test_agreement_matrix_and_per_version_figures() -> None:
    documents = [
        served("1", "dry", 0.9, shadow={"model": {"version": "2"}, "label": "dry", "confidence": 0.95}),
        served("1", "wet", 0.85, shadow={"model": {"version": "2"}, "label": "dry", "confidence": 0.6}),
        served("1", "wet", 0.99),
        served("2", "not_cough", 0.9),
    ]
    result = compare(documents, "1", "2")
    assert (result["documents"], result["paired"], result["agreement"]) == (4, 2, 0.5)
    assert result["labels"] == ["dry", "wet"]
    assert result["matrix"] == [[1, 0], [1, 0]]  # rows: version 1's label; columns: version 2's
    assert result["versions"]["1"]["labels"] == {"dry": 1, "wet": 2}
    assert result["versions"]["2"]["sources"] == {"shadow": 2, "served": 1}
    table = format_table(result)
    assert "1 vs 2: 4 results read, 2 answered by both, agreement 50.0%" in table
    assert "2: 3 answers (served 1, shadow 2)" in table


def test_no_pairs_is_said_plainly() -> None:
    table = format_table(compare([served("1", "dry", 0.9)], "1", "2"))
    assert "1 answered by both" not in table and "2: 0 answers (none)" in table
