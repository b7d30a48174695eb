"""Compatibility only: model artifacts registered before the zoo moved name this module.

The model zoo lives in ``verdict.models`` now. skops rebuilds a stored object by importing the
module its file names, and artifacts written before the move name
``verdict.pipeline._families.LabelEncoded``, so this path keeps resolving to the one class
(``tests/registry/test_old_layout.py`` loads such an artifact). Import ``verdict.models``.
"""

from verdict.models import LabelEncoded

__all__ = ["LabelEncoded"]
