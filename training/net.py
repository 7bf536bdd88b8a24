"""The Keras network and its training loop (with a tqdm progress bar)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from shared.ml.spec import FeatureSpec


def seed_everything(seed: int) -> None:
    """Same seed, same model: Python, numpy and TensorFlow seeded, TensorFlow's ops deterministic.

    Call before build_model: the initial weights are drawn when the layers are built.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


FILTERS = (32, 48, 64)  # the shipped size: filters of the three conv layers


def build_model(
    spec: FeatureSpec, n_labels: int, train_x: np.ndarray, filters: tuple[int, ...] = FILTERS
) -> keras.Model:
    """A small 1-D conv net over time on one MFCC window [n_mfcc, window_frames] → softmax.

    The per-coefficient normalisation is learned from the training windows and lives
    inside the model, so serving feeds raw MFCCs.
    """
    inputs = keras.Input((spec.n_mfcc, spec.window_frames), name="mfcc")
    x = keras.layers.Permute((2, 1))(inputs)  # [frames, n_mfcc]
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(np.transpose(train_x, (0, 2, 1)))
    x = norm(x)
    for width, kernel in zip(filters, (5, 3, 3), strict=True):
        x = keras.layers.Conv1D(width, kernel, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.Concatenate()(
        [keras.layers.GlobalAveragePooling1D()(x), keras.layers.GlobalMaxPooling1D()(x)]
    )
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(n_labels, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="cough_classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


class ProgressBar(keras.callbacks.Callback):
    """One tqdm bar over all epochs' batches, showing the latest loss and accuracy."""

    def __init__(self, epochs: int, steps_per_epoch: int) -> None:
        super().__init__()
        self.bar = tqdm(total=epochs * steps_per_epoch, desc="training", unit="batch", leave=True)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.bar.update(1)
        if logs:
            self.bar.set_postfix(loss=f"{logs.get('loss', 0):.3f}", acc=f"{logs.get('accuracy', 0):.3f}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs and "val_accuracy" in logs:
            self.bar.set_description(
                f"training (epoch {epoch + 1}, validation acc {logs['val_accuracy']:.3f})"
            )

    def on_train_end(self, logs: dict | None = None) -> None:
        self.bar.close()


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int = 64,
) -> dict[str, list[float]]:
    """Train for a fixed number of epochs (no model selection on the validation set); the history.

    Classes are weighted by the inverse of their window counts: real recordings make
    not_cough the largest class by far, and unweighted it would swamp the two coughs.
    """
    steps = int(np.ceil(len(train[0]) / batch_size))
    history = model.fit(
        train[0],
        train[1],
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        class_weight=class_weights(train[1]),
        verbose=0,
        callbacks=[ProgressBar(epochs, steps)],
    )
    return {key: [float(v) for v in values] for key, values in history.history.items()}


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """Weight per class index so that every class counts as much as the others in the loss."""
    present, counts = np.unique(labels, return_counts=True)
    return {int(c): float(len(labels) / (len(present) * n)) for c, n in zip(present, counts, strict=True)}
