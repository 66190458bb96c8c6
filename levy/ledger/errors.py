"""The ledger's errors, apart from the code that raises them so that every ledger module can."""


class LedgerError(RuntimeError):
    """The ledger cannot be used as asked (another site's, unreadable, inconsistent)."""


class TamperedError(LedgerError):
    """An item of the record does not match its seal: it was edited outside levy-monitor, and a
    writer refuses to build on it (`levy-monitor verify` names every check)."""
