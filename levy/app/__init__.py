"""The shell: composes configuration, collector, core and ledger into the commands."""
