"""shared/config.py: defaults, environment overrides and clear errors."""

import pytest

from shared.config import BUNDLED_MODEL_DIR, Settings


def test_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.__dataclass_fields__:
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert s.MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    assert s.MAX_DURATION_S == 30.0
    assert s.FEATURES_TOPIC == "audio-features"
    assert s.RESULTS_TOPIC == "cough-results"
    assert BUNDLED_MODEL_DIR.as_posix() == s.MODEL_URI
    assert s.cors_origins == frozenset()


def test_environment_overrides_with_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_DURATION_S", "12.5")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", " https://a.example , http://localhost:5173,")
    s = Settings.from_env()
    assert s.MAX_DURATION_S == 12.5
    assert s.MAX_UPLOAD_BYTES == 1000
    assert s.cors_origins == {"https://a.example", "http://localhost:5173"}


def test_blank_value_falls_back_to_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOAD_BUCKET", "   ")
    assert Settings.from_env().UPLOAD_BUCKET == Settings.UPLOAD_BUCKET


def test_bad_number_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "20MB")
    with pytest.raises(ValueError, match="MAX_UPLOAD_BYTES='20MB' is not a valid int"):
        Settings.from_env()
