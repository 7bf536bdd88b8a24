"""What preprocess and predict ask the registry: which version answers an upload, and its model.

preprocess calls `choose_for(key)`: the version (and shadow) for this upload from the cached
pointer, and that version's feature spec, which the features are computed with; the choice
travels in the features message. predict calls `model_for(choice)`: the named version,
loaded once per instance; a version that cannot load is answered by the champion instead.
With no pointer document the version MODEL_URI names is the champion, as before the registry.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from shared import logs
from shared.config import settings
from shared.errors import ModelError
from shared.ml.model import CoughModel, feature_spec, load_model
from shared.ml.spec import FeatureSpec
from shared.registry import store
from shared.registry.artifacts import Location, default_location
from shared.registry.cache import PointerCache
from shared.registry.routing import Choice, route


@functools.cache
def _location(model_uri: str) -> Location:
    return default_location(model_uri)


def location() -> Location:
    return _location(settings().MODEL_URI)


@functools.cache
def _cache(collection: str, name: str) -> PointerCache:
    return PointerCache(name, store.read_pointer, settings().MODEL_POINTER_TTL_S)


def pointer_cache() -> PointerCache:
    return _cache(settings().MODELS_COLLECTION, location().registry.name)


def champion() -> Choice:
    """The champion now (MODEL_URI's version while there is no pointer document)."""
    pointer = pointer_cache().get()
    where = location()
    return Choice(where.registry.name, pointer.champion if pointer else where.version, "champion")


def spec_of(version: str) -> FeatureSpec:
    return feature_spec(location().registry.uri(version))


def choose_for(key: str) -> tuple[Choice, FeatureSpec]:
    """The version that answers upload `key` and the feature spec to compute for it."""
    pointer = pointer_cache().get()
    where = location()
    choice = route(pointer, key) if pointer else Choice(where.registry.name, where.version, "champion")
    try:
        return choice, spec_of(choice.version)
    except ModelError as error:
        fallback = champion()
        if fallback.version == choice.version:
            raise
        logs.log_model_fallback("preprocess", choice.version, fallback.version, error.message)
        return fallback, spec_of(fallback.version)


@dataclass(frozen=True)
class Served:
    model: CoughModel
    choice: Choice
    fallback_from: str | None = None

    @property
    def info(self) -> dict[str, Any]:
        """How results name the model: name, version, sha256, training_data, its labels, alias (and
        fallback_from)."""
        info = {**self.model.info, "alias": self.choice.alias}
        return info | ({"fallback_from": self.fallback_from} if self.fallback_from else {})


_broken: dict[str, ModelError] = {}
_loaded: set[str] = set()
_lock = threading.Lock()


def load_version(version: str) -> CoughModel:
    """Version `version`, loaded once per instance; a version that failed to load (a ModelError:
    missing, bad sha256, broken) is not tried again, versions being immutable."""
    uri = location().registry.uri(version)
    if uri in _broken:
        raise _broken[uri]
    started = time.perf_counter()
    try:
        model = load_model(uri)
    except ModelError as error:
        with _lock:
            _broken[uri] = error
        raise
    with _lock:
        first = uri not in _loaded
        _loaded.add(uri)
    if first:
        logs.log_model_loaded(uri, model.name, model.version, (time.perf_counter() - started) * 1000)
    return model


def model_for(choice: Choice | None) -> Served:
    """The model for a features message's choice (the champion for a message without one)."""
    choice = choice or champion()
    try:
        return Served(load_version(choice.version), choice)
    except ModelError as error:
        fallback = champion()
        if fallback.version == choice.version:
            raise
        logs.log_model_fallback("predict", choice.version, fallback.version, error.message)
        return Served(load_version(fallback.version), replace(fallback, shadow=choice.shadow), choice.version)
