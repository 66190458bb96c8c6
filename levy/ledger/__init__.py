"""The ledger: the system of record, in SQLite."""
