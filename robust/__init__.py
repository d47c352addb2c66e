"""The robustification layer: an ML policy acts, the eGLB expert guarantees the bound (SPEC section 6)."""

if __name__ != "eglb.robust":  # the folder robust/ is the package eglb.robust, never a top-level robust
    raise ImportError(f"import eglb.robust, not {__name__} (the repository's folders are mapped into the eglb package)")
