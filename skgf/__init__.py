"""skgf: gradient-free neural-network estimators for scikit-learn."""

from ._zorb import ZORBClassifier, ZORBRegressor

__version__ = "0.1.0"

__all__ = [
    "ZORBClassifier",
    "ZORBRegressor",
    "__version__",
]
