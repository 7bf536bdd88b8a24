"""The two model runtimes, chosen by the model file's name: LiteRT (`model.tflite`) and ONNX Runtime
(`model.onnx`).

Each is imported only when a model of its kind is loaded, so serving a LiteRT model never
imports onnxruntime (and the other way round): a cold start pays for one runtime only.
A runtime answers `run(x)` for one input whose shape is `input_shape` with its dynamic
axes (None) filled in; both are safe to call from several threads.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np

from shared.errors import ModelError

MODEL_FILES = ("model.tflite", "model.onnx")


class Runtime(Protocol):
    input_shape: list[int | None]  # None: a dynamic axis
    output_shape: list[int | None]

    def run(self, x: np.ndarray) -> np.ndarray: ...


def open_runtime(model_file: str, data: bytes, uri: str) -> Runtime:
    """The runtime for a model file's bytes; ModelError when it cannot be loaded."""
    if model_file == "model.tflite":
        return LiteRT(data, uri)
    if model_file == "model.onnx":
        return OnnxRuntime(data, uri)
    raise ModelError(f"The model at {uri} is {model_file!r}; expected one of {', '.join(MODEL_FILES)}.")


def fit_shape(model_shape: list[int | None], core: tuple[int, ...]) -> tuple[int, ...] | None:
    """The concrete shape to feed an input of shape `core` to a model taking `model_shape`.

    The model's extra axes (batch, channel) must be of size 1 or dynamic; `core`'s axes
    keep their order. None when the model cannot take it. Of several fits, the one with
    the core axes last (batch and channel axes first, the usual order) wins.
    """
    fits = []
    for axes in itertools.combinations(range(len(model_shape)), len(core)):
        shape = [1] * len(model_shape)
        for axis, size in zip(axes, core, strict=True):
            shape[axis] = size
        if all(want in (None, have) for want, have in zip(model_shape, shape, strict=True)):
            fits.append(tuple(shape))
    return fits[-1] if fits else None


@contextmanager
def native_output_silenced() -> Iterator[None]:
    """Point fds 1 and 2 at /dev/null, restoring them after.

    LiteRT's C++ prints "Created TensorFlow Lite XNNPACK delegate for CPU." straight to the
    process's stderr when an interpreter is built (and TensorFlow's converter its progress);
    Python's sys.stdout/sys.stderr never see it, so only the file descriptors can keep it out
    of the CLI's output and the logs. Errors still arrive as Python exceptions.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


class LiteRT:
    """An ai-edge-litert interpreter (not thread-safe, so guarded by a lock)."""

    def __init__(self, data: bytes, uri: str) -> None:
        from ai_edge_litert.interpreter import Interpreter

        try:
            with native_output_silenced():
                self._interpreter = Interpreter(model_content=data, num_threads=1)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"model.tflite at {uri} cannot be loaded: {error}") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self.input_shape = _dims(self._input)
        self.output_shape = _dims(self._output)
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            if list(x.shape) != self._input["shape"].tolist():  # a dynamic axis of another size
                self._interpreter.resize_tensor_input(self._input["index"], list(x.shape))
                self._interpreter.allocate_tensors()
                self._input = self._interpreter.get_input_details()[0]
            self._interpreter.set_tensor(self._input["index"], x)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output["index"]).copy()


def _dims(details: dict[str, Any]) -> list[int | None]:
    signature = details.get("shape_signature")
    shape = signature if signature is not None and len(signature) else details["shape"]
    return [None if int(n) < 0 else int(n) for n in shape]


class OnnxRuntime:
    """An onnxruntime InferenceSession on one thread (`run` is thread-safe in ONNX Runtime)."""

    def __init__(self, data: bytes, uri: str) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings would go to stderr
        try:
            self._session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for a bad graph
            raise ModelError(f"model.onnx at {uri} cannot be loaded: {error}") from None
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1:
            raise ModelError(f"model.onnx at {uri} has {len(inputs)} inputs; a model takes one.")
        if inputs[0].type != "tensor(float)":
            raise ModelError(f"model.onnx at {uri} takes {inputs[0].type}; a model takes tensor(float).")
        self._input_name, self._output_name = inputs[0].name, outputs[0].name
        self.input_shape = [n if isinstance(n, int) and n > 0 else None for n in inputs[0].shape]
        self.output_shape = [n if isinstance(n, int) and n > 0 else None for n in outputs[0].shape]

    def run(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._session.run([self._output_name], {self._input_name: x})[0])
