#!/usr/bin/env bash
# Builds the source archive Terraform deploys for each function:
#   dist/functions/<name>.zip = functions/<name>.py as main.py + shared/*.py + requirements.txt
# and nothing else (no tests, training code, models or TensorFlow). Deterministic: sorted
# entries, fixed timestamps and modes, so the same source gives the same bytes and the
# object name in the source bucket (which carries the sha256) changes only with the code.
# Usage: scripts/package.sh [OUT_DIR]   (default dist/functions)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-dist/functions}
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3

"$PY" - "$OUT_DIR" <<'PYEOF'
import hashlib
import sys
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
out_dir = Path(sys.argv[1])
out_dir.mkdir(parents=True, exist_ok=True)

shared = sorted(p for p in Path("shared").rglob("*.py") if "__pycache__" not in p.parts)
functions = sorted(p for p in Path("functions").glob("*.py") if p.name != "__init__.py")
if not functions:
    sys.exit("package: no functions/*.py to package")


def add(archive: zipfile.ZipFile, arcname: str, data: bytes) -> None:
    info = zipfile.ZipInfo(arcname, date_time=FIXED_TIME)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data, compresslevel=9)


for source in functions:
    entries = {"main.py": source.read_bytes(), "requirements.txt": Path("requirements.txt").read_bytes()}
    entries.update({p.as_posix(): p.read_bytes() for p in shared})
    target = out_dir / f"{source.stem}.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for arcname in sorted(entries):
            add(archive, arcname, entries[arcname])
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"package: {target} {len(entries)} files sha256={digest[:16]}")
PYEOF
