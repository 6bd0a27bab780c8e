"""skgf: gradient-free neural-network estimators for scikit-learn."""

from ._lra import LRAClassifier, LRARegressor
from ._rso import RSOClassifier, RSORegressor
from ._sibp import SemiImplicitBPClassifier, SemiImplicitBPRegressor
from ._zorb import ZORBClassifier, ZORBRegressor

__version__ = "0.1.0"

__all__ = [
    "LRAClassifier",
    "LRARegressor",
    "RSOClassifier",
    "RSORegressor",
    "SemiImplicitBPClassifier",
    "SemiImplicitBPRegressor",
    "ZORBClassifier",
    "ZORBRegressor",
    "__version__",
]
