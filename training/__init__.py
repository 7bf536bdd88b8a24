"""Training and export of the cough model (TensorFlow + librosa live here, never in shared/)."""

# The synthetic generators `coughcloud train --data` accepts (modules of this package, in
# training.train.GENERATORS); named here so the CLI can check the option without TensorFlow.
GENERATOR_NAMES = ("recipes", "synthetic")
