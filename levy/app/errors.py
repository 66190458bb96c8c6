"""The user's mistakes the commands answer with exit status 2 and one plain message."""


class UsageError(Exception):
    """Bad input: configuration, arguments, an unreadable or malformed file, a period too early."""
