"""Write the example clips in examples/: synthetic, one per class, plus one webm/opus.

    python -m training.examples [OUT_DIR]

The clips come from training/synthetic.py with a seed the shipped model never saw in
training (it trained on seed 0), so they are fair, if easy, examples. The webm is made
with ffmpeg (libopus), as Chrome's recorder would send it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from training.synthetic import RATE, make_clip

EXAMPLES_SEED = 2026
# file name -> label; the webm holds a wet cough.
EXAMPLES = {
    "dry_cough.wav": "dry",
    "wet_cough.wav": "wet",
    "not_cough.wav": "not_cough",
    "wet_cough.webm": "wet",
}


def _webm(samples: np.ndarray) -> bytes:
    source = ("-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0")
    target = ("-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-f", "webm", "pipe:1")
    webm = subprocess.run(
        ["ffmpeg", "-v", "error", *source, *target],
        input=samples.astype("<f4").tobytes(),
        capture_output=True,
        check=True,
    )
    return webm.stdout


def write_examples(out: Path) -> list[Path]:
    rng = np.random.default_rng(EXAMPLES_SEED)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, label in EXAMPLES.items():
        samples = make_clip(label, rng)
        path = out / name
        if path.suffix == ".webm":
            path.write_bytes(_webm(samples))
        else:
            sf.write(path, samples, RATE, subtype="PCM_16")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "examples")):
        print(f"{path}  {path.stat().st_size} bytes")
