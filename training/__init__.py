"""Training and export of the cough model (TensorFlow + librosa live here, never in shared/)."""
