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
MODEL_NAME = "cough_classifier"  # the Keras name of a trained model, one network or several averaged


def build_model(
    spec: FeatureSpec,
    n_labels: int,
    train_x: np.ndarray,
    filters: tuple[int, ...] = FILTERS,
    name: str = MODEL_NAME,
) -> keras.Model:
    """A small 1-D conv net over time on one MFCC window [n_mfcc, window_frames] → softmax.

    The per-coefficient normalisation is learned from the training windows and lives
    inside the model, so serving feeds raw MFCCs. Each window's own mean per coefficient is
    then taken off (cepstral mean normalisation): a fixed gain or a fixed tilt or colour of
    the spectrum (microphone, room, codec, recipe) adds a constant to each MFCC, so the net
    sees how the sound changes within the window, not the channel it came through. The mean
    itself reaches the classifier only through a narrow side branch (16 units, half dropped
    in training): enough to tell a steady noise from a cough, too little to learn a recipe's
    colour. In training only, `Masks` hides a random stretch of frames and a few coefficients.
    """
    inputs = keras.Input((spec.n_mfcc, spec.window_frames), name="mfcc")
    x = keras.layers.Permute((2, 1))(inputs)  # [frames, n_mfcc]
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(np.transpose(train_x, (0, 2, 1)))
    x = Masks(name="masks")(norm(x))
    colour = keras.layers.GlobalAveragePooling1D(name="window_mean")(x)  # [n_mfcc]
    x = keras.layers.Subtract(name="window_mean_removed")([x, keras.layers.Reshape((1, spec.n_mfcc))(colour)])
    for width, kernel in zip(filters, (5, 3, 3), strict=True):
        x = keras.layers.Conv1D(width, kernel, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling1D(2)(x)
    side = keras.layers.Dropout(0.5)(keras.layers.Dense(16, activation="relu", name="colour")(colour))
    x = keras.layers.Concatenate()(
        [keras.layers.GlobalAveragePooling1D()(x), keras.layers.GlobalMaxPooling1D()(x), side]
    )
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(n_labels, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


@keras.saving.register_keras_serializable(package="coughcloud")
class Masks(keras.layers.Layer):
    """Training only (SpecAugment's masks, on MFCCs): per window, zero (the training mean, after
    normalisation) up to `frames` consecutive frames and up to `coefficients` consecutive
    coefficients, so no single stretch or coefficient decides. Serving passes windows through."""

    def __init__(self, frames: int = 20, coefficients: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames, self.coefficients = frames, coefficients
        self.seed_generator = keras.random.SeedGenerator()  # from the seed seed_everything set

    def call(self, x, training: bool = False):
        if not training:
            return x
        n, steps, width = keras.ops.shape(x)
        keep_frames = self._keep(n, steps, self.frames, axis=1)
        keep_coefficients = self._keep(n, width, self.coefficients, axis=2)
        return x * keep_frames * keep_coefficients

    def _keep(self, n, size, most: int, axis: int):
        """1 outside, 0 inside one random span of 0..`most` positions along `axis`, per window."""
        shape = (n, 1, 1)
        span = keras.random.randint(shape, 0, most + 1, seed=self.seed_generator)
        start = keras.random.randint(shape, 0, size, seed=self.seed_generator)
        position = keras.ops.reshape(keras.ops.arange(size), (1, -1, 1) if axis == 1 else (1, 1, -1))
        inside = keras.ops.logical_and(position >= start, position < start + span)
        return 1.0 - keras.ops.cast(inside, "float32")

    def get_config(self) -> dict:
        return {**super().get_config(), "frames": self.frames, "coefficients": self.coefficients}


def average(members: list[keras.Model]) -> keras.Model:
    """One model whose answer is the mean of its members' probabilities: one file to serve.

    Members trained from different initial weights on the same clips disagree most where the
    training data says least, which is off the recipes' family; averaging them damps those
    guesses (docs/concepts/model-evaluation.md)."""
    inputs = keras.Input(members[0].inputs[0].shape[1:], name="mfcc")
    outputs = keras.layers.Average(name="probabilities")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name=MODEL_NAME)


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
