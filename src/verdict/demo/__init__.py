"""The end-to-end demo's story (``verdict demo``), over the public APIs of every layer.

``run_demo(out, seed=, time_budget=, console=, commands=)`` tells it on the bundled
palmerpenguins data in a few minutes: advise, train and register, evaluate, batch-score, plan
three clouds, run them locally behind HAProxy, lose one, monitor drifted traffic, retrain on
the labels fed back and tear everything down. The traffic goes through
:class:`verdict.client.Client`; the steps show the ``verdict`` commands' own output, which the
command line passes in as :class:`DemoCommands` (this package sits below the CLI).
"""

from verdict import _lazy

_EXPORTS = {
    "_commands": ("DemoCommands",),
    "_story": ("run_demo",),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
