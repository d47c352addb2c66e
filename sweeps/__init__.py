"""Work spread over Ray: ordered task maps (evaluation cases, DAgger labels) and Ray Tune trials.

The only package that imports ray. It knows nothing of the API above it: callers (``eglb/``, the
command-line programs) pass in the functions to map or the trial to run.
"""
