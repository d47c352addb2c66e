"""rl-zoo3's ``-conf eglb.zoo.a2c``: our a2c hyperparameters per registered id (see :mod:`eglb.zoo`)."""

from eglb.training.zoo import zoo_hyperparams

hyperparams = zoo_hyperparams("a2c")
