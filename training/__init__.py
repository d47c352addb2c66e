"""Training: environments and reward wrappers for training, the RL and imitation loops, periodic
evaluation with listeners, run folders and checkpoints, configurations and hyperparameter files."""

if __name__ != "eglb.training":  # the folder training/ is the package eglb.training, never a top-level training
    raise ImportError(f"import eglb.training, not {__name__} (the repository's folders are mapped into the eglb package)")
