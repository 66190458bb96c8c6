"""The time-series export: ledger rows, period liabilities and meter states as points, written
to an output after a durable cursor (DESIGN.md section 4). The ledger is the buffer."""
