"""rl-zoo3 hyperparameters for our registered ids, importable from the installed package.

rl-zoo3's ``-conf`` takes a Python module with a ``hyperparams`` dictionary keyed by environment id;
one module per algorithm, named as rl-zoo3 names the algorithm, holds exactly what
``training/hyperparams/zoo/ALGO.yml`` holds (both are written from our own hyperparameter files by
:mod:`eglb.training.zoo`), so no path into the repository is needed::

    python -m rl_zoo3.train --algo ppo --env GLB-Synthetic-v0 --gym-packages eglb -conf eglb.zoo.ppo

Modules: ``eglb.zoo.ppo``, ``eglb.zoo.a2c``, ``eglb.zoo.sac``, ``eglb.zoo.td3`` and ``eglb.zoo.ppo_lstm``
(rl-zoo3's name for sb3-contrib's RecurrentPPO, our ``recurrent-ppo``).
"""
