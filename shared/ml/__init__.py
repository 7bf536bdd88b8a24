"""The audio and the model: decode, input checks, the feature spec and its features, runtimes, classify."""
