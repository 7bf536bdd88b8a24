#!/usr/bin/env bash
# One-time, idempotent set-up: Debian packages (only when missing), the Python
# virtualenv with every requirements file, and the npm packages. Quick when done:
# each step is skipped while the files it installs from are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
STAMP_DIR=$VENV/.stamps

# --- Debian packages: test fixtures (ffmpeg, sox, espeak-ng) and the browser tests.
need_apt=()
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v sox >/dev/null || need_apt+=(sox)
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# --- Python
[ -x $VENV/bin/python ] || "$PY" -m venv $VENV
mkdir -p $STAMP_DIR
py_hash=$(cat requirements*.txt pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ ! -f $STAMP_DIR/python-$py_hash ]; then
  echo "setup: installing Python packages into $VENV"
  [ -x $VENV/bin/uv ] || $VENV/bin/pip install -q uv
  $VENV/bin/uv pip install -q --python $VENV/bin/python \
    -r requirements.txt -r requirements-local.txt -r requirements-train.txt -r requirements-test.txt
  # cloudbox's metadata asks for Python >= 3.14; its Pub/Sub service runs on 3.11 (see local_stack/).
  $VENV/bin/pip install -q --disable-pip-version-check --no-deps --ignore-requires-python cloudbox==0.2.3
  $VENV/bin/uv pip install -q --python $VENV/bin/python --no-deps -e .
  # uv writes no bytecode, so every process would compile its imports from source each time
  # (a function's new process → create_app 3.9–4.3 s instead of ~1.2 s). Compile it all once.
  echo "setup: compiling bytecode in $VENV"
  $VENV/bin/python -m compileall -q -j 0 "$($VENV/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null
  rm -f $STAMP_DIR/python-*
  touch $STAMP_DIR/python-$py_hash
fi

# --- npm packages (the Firestore and Auth emulators; the Vue page)
for dir in local_stack/firestore local_stack/auth frontend_stub; do
  [ -f $dir/package.json ] || continue
  npm_hash=$(cat $dir/package.json $dir/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  stamp=$STAMP_DIR/npm-$(echo $dir | tr / _)-$npm_hash
  if [ ! -f $stamp ] || [ ! -d $dir/node_modules ]; then
    # npm ci installs the lockfile as it is; npm install would rewrite it (set-up changes no tracked file).
    echo "setup: npm ci in $dir"
    # firebase-tools' install scripts fetch prebuilt native add-ons the Auth emulator does not
    # use (re2 alone spent minutes on its download attempts): 49 s without them, offline-safe.
    scripts=""; [ $dir = local_stack/auth ] && scripts="--ignore-scripts"
    (cd $dir && npm ci $scripts --no-audit --no-fund --loglevel=error)
    rm -f $STAMP_DIR/npm-$(echo $dir | tr / _)-*
    touch $stamp
  fi
done

# --- the web page: build frontend_stub/dist/ (served by the local stack) when its sources change
if [ -f frontend_stub/package.json ]; then
  web_hash=$(cd frontend_stub && find index.html vite.config.js package-lock.json src -type f | sort | xargs cat | sha256sum | cut -c1-16)
  if [ ! -f $STAMP_DIR/web-$web_hash ] || [ ! -f frontend_stub/dist/index.html ]; then
    echo "setup: building the web page in frontend_stub/dist"
    (cd frontend_stub && npm run --silent build >/dev/null)
    rm -f $STAMP_DIR/web-*
    touch $STAMP_DIR/web-$web_hash
  fi
fi
