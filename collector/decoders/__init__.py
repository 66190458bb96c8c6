"""One decoder per device payload format: bytes on a topic in, exact integer units out.

Decoders are pure (no I/O, no clock); the router chooses the decoder for a topic and keeps the
little state some formats need (Shelly's partial status notifications).
"""
