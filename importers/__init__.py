"""Readers of real-world data formats (one module per source), landing every series on one hourly UTC grid."""

if __name__ != "eglb.importers":  # the folder importers/ is the package eglb.importers, never a top-level importers
    raise ImportError(f"import eglb.importers, not {__name__} (the repository's folders are mapped into the eglb package)")
