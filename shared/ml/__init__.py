"""The audio and the model: decode, input checks, MFCC features, the LiteRT runtime, classify."""
