"""What the running pipeline has been doing, from its result documents (`coughcloud stats`).

The local counterpart of the Cloud Monitoring dashboard: counts by status and error code,
latency percentiles per stage, labels per model version, over a recent window.
"""
