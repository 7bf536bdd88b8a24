"""The model card that goes into metadata.json: what the model is, and what it is not."""

from __future__ import annotations

from typing import Any

TRAINED_ON = {
    "recipes": "Synthetic dry and wet coughs from a broad, randomized family of recipes "
    "(training/recipes.py: source-filter coughs in three phases, noise bursts with varied onsets, "
    "decays and resonances; wet ones longer, lower, with crackles and bubbling), each clip through "
    "a randomized room, microphone, hum and lossy codec; synthetic non-coughs, most with a cough's "
    "outline (training/look_alikes.py: knocks, clicks, whooshes, laughter), the rest from "
    "training/synthetic.py",
    "synthetic": "Synthetic dry and wet coughs and synthetic non-coughs (training/synthetic.py)",
}
EVALUATED = {
    "recipes": "Measured on cough recipes it never saw: training/held_out/ holds two recipes written "
    "apart from the training family and by other approaches (an airflow model through a vocal-tract "
    "tube; a recorded-like envelope painted with sampled spectral shapes), at 16-48 kHz, with "
    "background noise and hum, many through Opus, AAC or MP3, scored through the serving path and "
    "looked at once per released model (`python -m training.evaluate`); its false coughs are measured "
    "on whole held-out packages of real non-cough sound. The figures are in metrics.held_out. The "
    "training recipe was chosen among candidates on a separate development set (training/dev/: two "
    "more cough recipes and other packages of real sound; metrics.dev), never on the held-out data.",
}


def model_card(sources: list[dict[str, Any]], data: str = "recipes") -> dict[str, Any]:
    """Plain statements for a reader of metadata.json; the figures are in `metrics`."""
    trained = sorted({s["package"] for s in sources if s["use"] == "train"})
    held_out = sorted({s["package"] for s in sources if s["use"] == "held_out"})
    card = {
        "intended_use": "A demonstration of the CoughCloud pipeline: it tells synthetic dry and wet "
        "coughs apart and learned to answer not_cough for real speech, instruments and "
        "everyday sound effects. It is not a medical device and gives no diagnosis.",
        "trained_on": TRAINED_ON.get(data, TRAINED_ON["synthetic"])
        + ", with real recordings mixed under them, and real non-cough recordings from Debian packages: "
        + ", ".join(trained)
        + ".",
        "never_shown": "Real coughs: no cough recordings can be had from the registries this project "
        "reaches. Also never shown the held-out packages it is measured on: " + ", ".join(held_out) + ".",
        "limits": [
            "Its dry/wet answers on real coughs are unmeasured; published dry/wet figures on real data "
            "are about 84 %/76 % sensitivity/specificity (Swarnkar 2013).",
            "A real sound unlike anything in its training data (a sneeze, a throat clearing, a bark) may "
            "still be called a cough.",
            "Much of its real speech is 8 kHz telephone audio (band-limited) or game dialogue.",
            "Answers below the threshold are `inconclusive`; the probabilities are still reported.",
        ],
        "licences": {s["package"]: s["licence"] for s in sources},
    }
    if data in EVALUATED:
        card["evaluated"] = EVALUATED[data]
        card["limits"].insert(
            1,
            "The held-out cough recipes were written by the same team as the training family and share "
            "its authors' idea of what a cough sounds like: their recall does not measure real coughs.",
        )
    return card


def held_out_sentence(record: dict[str, Any]) -> str:
    """The held-out figures of `metrics.held_out` (training/evaluate.py) in one plain sentence."""
    coughs, real = record["coughs"], record["real"]
    return (
        f"On {coughs['clips']} synthetic coughs from held-out recipes it never saw it called "
        f"{coughs['called_cough_rate']:.0%} a cough and got dry/wet right on "
        f"{coughs['dry_wet_right_of_called']:.0%} of those ({coughs['inconclusive_rate']:.0%} inconclusive); "
        f"it called {real['called_cough_rate']:.1%} of {real['clips']} held-out real non-cough recordings "
        f"a cough. Looked at {record['looks']} time(s)."
    )


def side_by_side(metadata: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model version that has held-out figures: the same clips for every version.

    Synthetic accuracy is each version's own test split of its own generator, so it does not
    compare across generators; the held-out columns do.
    """
    rows = []
    for meta in metadata:
        metrics = meta.get("metrics", {})
        record = metrics.get("held_out")
        if not record:
            continue
        rows.append(
            {
                "version": meta["version"],
                "held_out_cough_recall": record["coughs"]["called_cough_rate"],
                "held_out_dry_wet_right_of_called": record["coughs"]["dry_wet_right_of_called"],
                "held_out_cough_inconclusive_rate": record["coughs"]["inconclusive_rate"],
                "held_out_real_called_cough_rate": record["real"]["called_cough_rate"],
                "held_out_real_inconclusive_rate": record["real"]["inconclusive_rate"],
                "own_synthetic_test_accuracy": metrics.get("synthetic", metrics).get("accuracy"),
                "looks": record["looks"],
            }
        )
    return rows
