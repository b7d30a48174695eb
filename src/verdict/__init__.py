"""verdict: from a labelled table to a trustworthy multiclass classifier in production.

Subpackages are imported on demand (``from verdict.metrics import roc_auc_score``) so that
``import verdict`` stays cheap for the CLI and the service.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("verdict")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
