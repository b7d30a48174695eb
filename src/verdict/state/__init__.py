"""The service's own database: API keys, the prediction log and feedback (SQLAlchemy).

``open_state(url)`` opens it (SQLite by default, PostgreSQL by URL), its tables created or
migrated. On it, ``KeyStore`` creates, checks and revokes API keys (``ApiKey``,
``CreatedKey``); ``PredictionLog`` stores every answered request (``PredictionBatch``) and the
feedback on it (``FeedbackItem``, ``FeedbackResult``) and reads them back for monitoring and
retraining; ``export_log`` streams one model's log to a file (``ExportSummary``). A deployment
target's database is kept in step with the central one by ``ship_log`` (its rows out, exactly
once), ``share_keys`` (the central keys in) and ``adopt_salt``. Nobody runs SQL on these tables
from outside this package: the service, monitoring, deploy and the CLI use these names::

    from verdict.state import PredictionLog, open_state
    log = PredictionLog(open_state("sqlite:///.verdict/service.db"))
    frame = log.predictions("penguins")
"""

from verdict import _lazy

_EXPORTS = {
    "_database": ("open_state",),
    "_keys": ("ApiKey", "CreatedKey", "KeyStore"),
    "_sync": ("LogShipment", "adopt_salt", "log_backlog", "salts_match", "share_keys", "ship_log"),
    "log": _lazy.names_of(f"{__name__}.log"),
}

__all__ = _lazy.exported(_EXPORTS)

__getattr__, __dir__ = _lazy.lazy_exports(__name__, _EXPORTS)
