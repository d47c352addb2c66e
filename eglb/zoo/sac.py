"""rl-zoo3's ``-conf eglb.zoo.sac``: our sac hyperparameters per registered id (see :mod:`eglb.zoo`)."""

from eglb.training.zoo import zoo_hyperparams

hyperparams = zoo_hyperparams("sac")
