"""rl-zoo3's ``-conf eglb.zoo.ppo_lstm``: our recurrent-ppo hyperparameters per registered id (see :mod:`eglb.zoo`)."""

from eglb.training.zoo import zoo_hyperparams

hyperparams = zoo_hyperparams("recurrent-ppo")
