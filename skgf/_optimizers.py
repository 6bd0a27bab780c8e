"""Stochastic optimisers for the iterative methods, for any array namespace.

In the shape of scikit-learn's ``_stochastic_optimizers.py``: an optimiser
is an object holding its moments, created for a list of parameters and then
asked, once per mini-batch, for the parameters moved against their update
directions. The directions need not be gradients: rec-LRA feeds its local,
Hebbian updates through them.

Both optimisers are dataclasses, so that the fitted state of an estimator
that holds one can be copied, moved between devices and pickled as NumPy
field by field (``skgf._array_api.map_arrays``).
"""

import math
from dataclasses import dataclass

from ._array_api import namespace_of


@dataclass
class AdamOptimizer:
    """Adam (Kingma & Ba 2014) with bias-corrected moments.

    Parameters
    ----------
    learning_rate : float
        Step size.
    first_moments, second_moments : list of arrays
        Running means of the updates and of their squares, one per parameter.
    t : int
        Number of steps taken so far.
    """

    learning_rate: float
    first_moments: list
    second_moments: list
    t: int = 0

    # scikit-learn's MLP defaults, which the LRA authors' code uses too
    beta_1 = 0.9
    beta_2 = 0.999
    epsilon = 1e-8

    @classmethod
    def for_params(cls, params, learning_rate):
        """A fresh optimiser (zero moments) for ``params``."""
        xp = namespace_of(params[0])
        return cls(
            learning_rate, [xp.zeros_like(p) for p in params], [xp.zeros_like(p) for p in params]
        )

    def fits(self, params):
        """Whether this optimiser's moments match ``params`` (count and shapes)."""
        return len(self.first_moments) == len(params) and all(
            m.shape == p.shape for m, p in zip(self.first_moments, params)
        )

    def step(self, params, updates):
        """``params`` moved against ``updates`` (new arrays, moments updated)."""
        xp = namespace_of(params[0])
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        size = self.learning_rate * math.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        m, v = self.first_moments, self.second_moments
        moved = []
        for k, (p, g) in enumerate(zip(params, updates)):
            m[k] = b1 * m[k] + (1.0 - b1) * g
            v[k] = b2 * v[k] + (1.0 - b2) * (g * g)
            moved.append(p - size * m[k] / (xp.sqrt(v[k]) + self.epsilon))
        return moved


@dataclass
class SGDOptimizer:
    """Stochastic gradient descent with (heavy-ball) momentum.

    Parameters
    ----------
    learning_rate : float
        Step size.
    momentum : float
        Share of the previous velocity kept at each step (0: plain SGD).
    velocities : list of arrays
        Current velocity of each parameter.
    """

    learning_rate: float
    momentum: float
    velocities: list

    @classmethod
    def for_params(cls, params, learning_rate, momentum):
        """A fresh optimiser (zero velocities) for ``params``."""
        xp = namespace_of(params[0])
        return cls(learning_rate, momentum, [xp.zeros_like(p) for p in params])

    def fits(self, params):
        """Whether this optimiser's velocities match ``params``."""
        return len(self.velocities) == len(params) and all(
            v.shape == p.shape for v, p in zip(self.velocities, params)
        )

    def step(self, params, updates):
        """``params`` moved against ``updates`` (new arrays, velocities updated)."""
        vel = self.velocities
        moved = []
        for k, (p, g) in enumerate(zip(params, updates)):
            vel[k] = self.momentum * vel[k] - self.learning_rate * g
            moved.append(p + vel[k])
        return moved
