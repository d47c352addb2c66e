"""rl-zoo3's ``-conf eglb.zoo.td3``: our td3 hyperparameters per registered id (see :mod:`eglb.zoo`)."""

from eglb.training.zoo import zoo_hyperparams

hyperparams = zoo_hyperparams("td3")
