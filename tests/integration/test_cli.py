"""The client commands against the running stack, as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from shared.config import REPO_ROOT
from tests.fixtures.audio_files import encode as encode_audio
from tests.fixtures.audio_files import sample_file, silence
from tests.integration.support import coughcloud

pytestmark = pytest.mark.integration


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_upload_wait_result_and_watch(stack, tmp_path):
    env_file = str(stack.options.stack_env)
    good, bad = tmp_path / "good.wav", tmp_path / "quiet.wav"
    good.write_bytes(sample_file("wav_pcm16", seed=11))
    bad.write_bytes(encode_audio(silence(1.0), 16_000, "wav_pcm16"))
    prefix = f"cli-{time.time_ns()}/"
    watch_log = tmp_path / "watch.log"
    watch = subprocess.Popen(
        [sys.executable, "-m", "coughcloud.cli", "watch", "--env", env_file, "--timeout", "60"],
        stdout=subprocess.PIPE,
        stderr=watch_log.open("w"),
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        while "watching" not in watch_log.read_text():  # its subscription exists from here on
            assert watch.poll() is None, watch_log.read_text()
            time.sleep(0.05)

        uploaded = coughcloud("upload", "--env", env_file, "--prefix", prefix, str(good), str(bad), "--wait")
        results = {d["name"]: d for d in _json_lines(uploaded.stdout)}
        assert uploaded.returncode == 1  # one of the two failed
        assert results[prefix + "good.wav"]["status"] == "done"
        assert results[prefix + "quiet.wav"]["error"]["code"] == "silent_audio"

        one = coughcloud("result", "--env", env_file, prefix + "good.wav")
        assert one.returncode == 0
        assert _json_lines(one.stdout)[0]["label"] == results[prefix + "good.wav"]["label"]
        assert coughcloud("result", "--env", env_file, prefix + "missing.wav").returncode == 1

        good_name = prefix + "good.wav"
        watched: dict[str, dict] = {}
        while good_name not in watched:  # other tests' late results may come first
            line = watch.stdout.readline()
            assert line, f"watch ended without {good_name}"
            document = json.loads(line)
            watched[document["name"]] = document
        assert watched[good_name]["status"] == "done"
        assert watched[good_name]["generation"] == results[good_name]["generation"]
    finally:
        watch.terminate()  # watch deletes its subscription on SIGTERM, as on Ctrl-C
        assert watch.wait(timeout=10) == 0
