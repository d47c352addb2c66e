"""Work spread over Ray: ordered task maps (evaluation cases, DAgger labels) and Ray Tune trials.

The only package that imports ray. It knows nothing of the API above it: callers (``eglb/``, the
command-line programs) pass in the functions to map or the trial to run.
"""

if __name__ != "eglb.sweeps":  # the folder sweeps/ is the package eglb.sweeps, never a top-level sweeps
    raise ImportError(f"import eglb.sweeps, not {__name__} (the repository's folders are mapped into the eglb package)")
