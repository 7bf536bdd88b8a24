"""Where the real not-a-cough recordings come from: Debian packages, named here and nowhere else.

Every source is one Debian package whose recordings are all `not_cough`. A source is
trained on (`train`: its clips are split into training and validation, and its
recordings are also mixed under the synthetic coughs as background), held out whole
(`held_out`: never read by training, never used to pick the threshold or a candidate,
measured once per release by training/evaluate.py), or part of the development set
(`dev`, DEV_SOURCES: never read by training, used to compare candidates, training/dev/). Holding
out whole packages (another voice and language, another instrument set, another game's
and another desktop theme's effects) is what makes the held-out figure mean something:
random clips of a trained package would share its voice, room and microphone.

`ensure_installed` apt-gets the packages that are missing, so `coughcloud train`
reproduces the shipped model on a fresh machine. The licences go into metadata.json.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict, dataclass

TRAIN = "train"
HELD_OUT = "held_out"
DEV = "dev"


@dataclass(frozen=True)
class Source:
    """One Debian package of real recordings, all of them `not_cough`."""

    package: str
    kind: str  # speech, instrument, effects
    use: str  # TRAIN or HELD_OUT
    licence: str  # as the package's /usr/share/doc/<package>/copyright gives it
    what: str
    reader: str = "audio"  # audio (wav/ogg/oga files), sf2 (a SoundFont), pat (GUS patches)
    limit: int | None = None  # at most this many recordings (a seeded sample)

    def to_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


SOURCES: tuple[Source, ...] = (
    # --- trained on
    Source(
        "asterisk-core-sounds-en-wav",
        "speech",
        TRAIN,
        "CC-BY-SA-3.0",
        "US English telephone prompts, one female voice, 8 kHz",
        limit=300,
    ),
    Source(
        "asterisk-core-sounds-es-wav",
        "speech",
        TRAIN,
        "CC-BY-SA-3.0",
        "Mexican Spanish telephone prompts, 8 kHz",
        limit=300,
    ),
    Source(
        "asterisk-core-sounds-ru-wav",
        "speech",
        TRAIN,
        "CC-BY-3.0",
        "Russian telephone prompts, 8 kHz",
        limit=300,
    ),
    Source(
        "fillets-ng-data-nl",
        "speech",
        TRAIN,
        "GPL-2",
        "Dutch spoken game dialogue, several voice actors, 22 kHz",
        limit=400,
    ),
    Source(
        "timgm6mb-soundfont",
        "instrument",
        TRAIN,
        "GPL-2",
        "General MIDI instrument and drum samples (SoundFont)",
        reader="sf2",
        limit=300,
    ),
    Source("sound-icons", "effects", TRAIN, "GPL-2+", "short sound icons for screen readers"),
    Source("bucklespring-data", "effects", TRAIN, "GPL-2+", "mechanical keyboard key presses and releases"),
    Source("lbreakout2-data", "effects", TRAIN, "GPL", "arcade game sound effects"),
    Source("moon-lander-data", "effects", TRAIN, "BSD-2-Clause", "arcade game sound effects and speech"),
    Source("frozen-bubble-data", "effects", TRAIN, "GPL-2", "puzzle game sound effects, a snore, applause"),
    Source("pingus-data", "effects", TRAIN, "GPL-2+", "puzzle game sound effects and short voices"),
    Source("tuxtype-data", "effects", TRAIN, "GPL-2", "typing game sound effects"),
    Source("oxygen-sounds", "effects", TRAIN, "LGPL-3.0-or-later", "KDE Oxygen desktop sounds"),
    Source("deepin-sound-theme", "effects", TRAIN, "GPL-3+", "Deepin desktop sounds"),
    Source("colobot-common-sounds", "effects", TRAIN, "GPL-3+", "space game sound effects"),
    Source("tuxpaint-data", "effects", TRAIN, "GPL-2+", "drawing program sound effects"),
    Source("chromium-bsu-data", "effects", TRAIN, "Clarified-Artistic", "space shooter sound effects"),
    Source("boswars-data", "effects", TRAIN, "GPL-2+", "strategy game sound effects and voices"),
    # --- held out whole: measured only
    Source(
        "asterisk-core-sounds-fr-wav",
        "speech",
        HELD_OUT,
        "CC-BY-SA-3.0",
        "Canadian French telephone prompts, another voice, 8 kHz",
        limit=200,
    ),
    Source(
        "asterisk-prompt-it-menardi-wav",
        "speech",
        HELD_OUT,
        "CC-BY-SA-3.0",
        "Italian telephone prompts by Marco Menardi and Paola Dal Zot (voip.ammdomus.it), "
        "another voice and recording, 8 kHz",
        limit=200,
    ),
    Source(
        "fillets-ng-data-cs",
        "speech",
        HELD_OUT,
        "GPL-2",
        "Czech spoken game dialogue, other voice actors, 22 kHz",
        limit=200,
    ),
    Source(
        "freepats",
        "instrument",
        HELD_OUT,
        "GPL-2+",
        "General MIDI instrument patches (GUS .pat)",
        reader="pat",
        limit=200,
    ),
    Source("heroes-sound-effects", "effects", HELD_OUT, "GPL-2+", "arcade game sound effects"),
    Source("yaru-theme-sound", "effects", HELD_OUT, "CC-BY-SA-4.0", "Ubuntu Yaru desktop sounds"),
)

# The development set's real non-coughs (training/dev/): other packages again, for comparing
# training candidates on false coughs without looking at the held-out ones.
DEV_SOURCES: tuple[Source, ...] = (
    Source("fillets-ng-data", "effects", DEV, "GPL-2+", "puzzle game sound effects and music", limit=150),
    Source(
        "lomiri-sounds",
        "effects",
        DEV,
        "CC-BY-SA-3.0, CC-BY-3.0, CC-BY-4.0, CC0-1.0",
        "Lomiri (Ubuntu Touch) desktop sounds",
    ),
    Source("psi-plus-sounds", "effects", DEV, "GPL-2+", "chat client notification sounds"),
    Source("eiskaltdcpp-sounds", "effects", DEV, "GPL-3+", "file sharing client notification sounds"),
)

# The small set the test suite trains on (a few seconds): both packages are under 1 MB and
# scripts/setup.sh installs them.
SMALL_SOURCES: tuple[Source, ...] = tuple(
    source for source in SOURCES if source.package in ("sound-icons", "heroes-sound-effects")
)
SOURCE_SETS = {"full": SOURCES, "small": SMALL_SOURCES}


def installed(package: str) -> bool:
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
    )
    return status.returncode == 0 and status.stdout.strip().endswith("installed")


def ensure_installed(sources: tuple[Source, ...]) -> list[str]:
    """apt-get install the sources' packages that are missing (no recommends); those installed."""
    missing = [source.package for source in sources if not installed(source.package)]
    if missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        install = [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
        subprocess.run(install, check=True, env=env, stdout=subprocess.DEVNULL)
    return missing


def package_files(package: str) -> list[str]:
    """The files an installed package put on this machine, sorted (dpkg -L)."""
    listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True)
    return sorted(line for line in listing.stdout.splitlines() if os.path.isfile(line))


def package_version(package: str) -> str:
    query = ["dpkg-query", "-W", "-f=${Version}", package]
    return subprocess.run(query, capture_output=True, text=True, check=True).stdout.strip()
