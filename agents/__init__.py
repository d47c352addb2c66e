"""Policies: classical (baselines, eGLB-Off, eGLB), learned at inference, and the common interfaces."""
