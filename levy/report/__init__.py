"""Period reports: the figures an accountant files and an inspector traces."""
