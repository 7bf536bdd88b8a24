"""The model card that goes into metadata.json: what the model is, and what it is not."""

from __future__ import annotations

from typing import Any


def model_card(sources: list[dict[str, Any]]) -> dict[str, Any]:
    """Plain statements for a reader of metadata.json; the figures are in `metrics`."""
    trained = sorted({s["package"] for s in sources if s["use"] == "train"})
    held_out = sorted({s["package"] for s in sources if s["use"] == "held_out"})
    return {
        "intended_use": "A demonstration of the CoughCloud pipeline: it tells synthetic dry and wet "
        "coughs apart and learned to answer not_cough for real speech, instruments and "
        "everyday sound effects. It is not a medical device and gives no diagnosis.",
        "trained_on": "Synthetic dry and wet coughs and synthetic non-coughs (training/synthetic.py), "
        "with real recordings mixed under them, and real non-cough recordings from Debian packages: "
        + ", ".join(trained)
        + ".",
        "never_shown": "Real coughs: no cough recordings can be had from the registries this project "
        "reaches. Also never shown the held-out packages it is measured on: " + ", ".join(held_out) + ".",
        "limits": [
            "Its dry/wet answers on real coughs are unmeasured; published dry/wet figures on real data "
            "are about 84 %/76 % sensitivity/specificity (Swarnkar 2013).",
            "A real sound unlike anything in its training data (a sneeze, laughter, a door slam) may "
            "still be called a cough.",
            "Much of its real speech is 8 kHz telephone audio (band-limited) or game dialogue.",
            "Answers below the threshold are `inconclusive`; the probabilities are still reported.",
        ],
        "licences": {s["package"]: s["licence"] for s in sources},
    }
