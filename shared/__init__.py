"""CoughCloud's runtime library: everything the deployed functions share.

Kept lean on purpose (numpy, soundfile/soxr, PyAV, LiteRT and the Google clients):
no TensorFlow and no librosa are imported here, so cold starts stay fast.
"""
