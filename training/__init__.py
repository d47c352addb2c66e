"""Training: environments and reward wrappers for training, the RL and imitation loops, periodic
evaluation with listeners, run folders and checkpoints, configurations and hyperparameter files."""
