"""Policies: classical (baselines, eGLB-Off, eGLB), learned at inference, and the common interfaces."""

if __name__ != "eglb.agents":  # the folder agents/ is the package eglb.agents, never a top-level agents
    raise ImportError(f"import eglb.agents, not {__name__} (the repository's folders are mapped into the eglb package)")
