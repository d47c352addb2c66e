"""Running algorithms on a scenario and reporting what they did: tables, files and plots."""

if __name__ != "eglb.report":  # the folder report/ is the package eglb.report, never a top-level report
    raise ImportError(f"import eglb.report, not {__name__} (the repository's folders are mapped into the eglb package)")
