"""TOML snippets shared by the configuration tests."""

METER = """
[[meters]]
id = "rig-0001"
topic = "mining/site-1/rig-0001"
rated_kw = "3.6"
"""
"""One valid meter, for tests about everything else; append it after the tables under test."""
