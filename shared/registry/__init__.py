"""The model registry: versions in the models bucket, aliases in one Firestore document per model.

`artifacts` reads and writes version folders (`<name>/<version>/`), `pointer` is the alias
document and its changes, `store` keeps it (and its history) in Firestore, `cache` and
`routing` are what the functions use per upload, `serving` ties them together for
preprocess and predict.
"""
