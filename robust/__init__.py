"""The robustification layer: an ML policy acts, the eGLB expert guarantees the bound (SPEC section 6)."""
