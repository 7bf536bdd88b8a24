"""Load a real data set laid out like COUGHVID (Orlandic et al., 2021) for training.

Expected layout: one folder with a metadata CSV (COUGHVID ships
`metadata_compiled.csv`; any single `*.csv` is accepted) and the recordings named
`<uuid>.<ext>` (COUGHVID: .webm and .ogg; .wav, .flac, .mp3, .m4a also work) in the
same folder or any sub-folder.

Labels: the expert annotations. COUGHVID has up to four experts per recording in
columns `cough_type_1` … `cough_type_4` (a single `cough_type` column is also read),
with values `dry`, `wet` or `unknown`. A recording is `dry` or `wet` when its experts'
dry/wet votes have a strict majority; `unknown`-only, tied or unannotated rows are
skipped. If the CSV has COUGHVID's `cough_detected` column (the probability, from
their own classifier, that the recording holds a cough), rows below
`not_cough_below` become `not_cough` examples.

Audio is decoded with the serving decoder (`shared.ml.audio.decode_audio`), so training
sees exactly what the functions will see; undecodable files are counted and skipped.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from shared.errors import InputError
from shared.ml.audio import decode_audio
from training.synthetic import Clip

AUDIO_EXTENSIONS = (".webm", ".ogg", ".wav", ".flac", ".mp3", ".m4a", ".mp4")
TYPE_COLUMNS = ("cough_type", "cough_type_1", "cough_type_2", "cough_type_3", "cough_type_4")


@dataclass
class LoadReport:
    """What the loader did with each row, for the training report."""

    rows: int = 0
    loaded: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def find_metadata(folder: Path) -> Path:
    preferred = folder / "metadata_compiled.csv"
    if preferred.is_file():
        return preferred
    candidates = sorted(folder.glob("*.csv"))
    if len(candidates) != 1:
        raise ValueError(
            f"{folder}: expected metadata_compiled.csv or exactly one *.csv, found {len(candidates)}"
        )
    return candidates[0]


def expert_label(row: dict[str, str]) -> str | None:
    """'dry' or 'wet' by strict majority of the experts' dry/wet votes, else None."""
    votes = Counter(
        value
        for column in TYPE_COLUMNS
        if (value := (row.get(column) or "").strip().lower()) in {"dry", "wet"}
    )
    if not votes or votes["dry"] == votes["wet"]:
        return None
    return "dry" if votes["dry"] > votes["wet"] else "wet"


def _audio_files(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in AUDIO_EXTENSIONS and path.is_file():
            files.setdefault(path.stem, path)
    return files


def row_label(row: dict[str, str], not_cough_below: float) -> str | None:
    label = expert_label(row)
    if label is not None:
        return label
    try:
        detected = float(row.get("cough_detected") or "nan")
    except ValueError:
        return None
    return "not_cough" if detected < not_cough_below else None


def load_coughvid(
    folder: Path, sample_rate: int, *, not_cough_below: float = 0.05, limit: int | None = None
) -> tuple[list[Clip], LoadReport]:
    """The labelled clips of a COUGHVID-style folder, decoded to mono at `sample_rate`."""
    folder = Path(folder)
    metadata = find_metadata(folder)
    audio = _audio_files(folder)
    report = LoadReport()
    clips: list[Clip] = []
    with metadata.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "uuid" not in (reader.fieldnames or []):
            raise ValueError(f"{metadata}: no 'uuid' column")
        for row in reader:
            report.rows += 1
            label = row_label(row, not_cough_below)
            if label is None:
                report.skipped["no dry/wet majority"] += 1
                continue
            path = audio.get(row["uuid"].strip())
            if path is None:
                report.skipped["audio file missing"] += 1
                continue
            try:
                decoded = decode_audio(path.read_bytes(), sample_rate)
            except InputError as error:
                report.skipped[f"undecodable ({error.code})"] += 1
                continue
            clips.append(Clip(decoded.samples, sample_rate, label, str(path)))
            report.loaded[label] += 1
            if limit is not None and len(clips) >= limit:
                break
    return clips, report
