"""The October scenario (tests/app/scenario.py) as sites that export: the plain one, and one
whose site and meter ids hold spaces, commas, `=`, quotes and Cyrillic."""

import json
import os
from pathlib import Path

from tests.app.scenario import SITE_TOML, write_feed
from tests.live.harness import levy

TOKEN = "test-token"
TOKEN_ENV = "LEVY_TEST_INFLUX_TOKEN"
OCTOBER_END = "2026-11-01T00:00:00+05:00"
TRICKY_SITE = 'Экибастуз 1, зал=2 "A"'
TRICKY_METERS = {
    "rig-1": "Риг 1, ряд=2",
    "rig-2": 'rig "2" off grid',
    "rig-3": "rig\\3 = new",
    "rig-4": "стойка 4",
}


def site_toml(folder: Path, url: str, bucket: str, tricky: bool = False) -> Path:
    """The scenario's site exporting to `url` (the v2 write path), its ledger in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    text = SITE_TOML
    if tricky:
        text = text.replace('id = "scenario-1"', f"id = {json.dumps(TRICKY_SITE)}")
        for plain, written in TRICKY_METERS.items():
            text = text.replace(f'id = "{plain}"', f"id = {json.dumps(written)}")
    text += (
        f'\n[influx]\nurl = "{url}"\norg = "levy"\nbucket = "{bucket}"\ntoken_env = "{TOKEN_ENV}"\n'
    )
    path = folder / "site.toml"
    path.write_text(text)
    return path


def replayed_october(folder: Path, url: str, bucket: str, tricky: bool = False) -> Path:
    """A site whose ledger holds the replayed October; returns its configuration."""
    config = site_toml(folder, url, bucket, tricky)
    feed = folder / "october.jsonl"
    write_feed(feed)
    done = levy("replay", "-c", str(config), "-i", str(feed), "--until", OCTOBER_END)
    assert done.returncode == 0, done.stderr
    return config


def export(config: Path, *argv: str, token: str = TOKEN):
    os.environ[TOKEN_ENV] = token
    try:
        return levy("export", "-c", str(config), *argv)
    finally:
        del os.environ[TOKEN_ENV]


def report(config: Path, period: str) -> dict:
    done = levy("report", "-c", str(config), "--period", period, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
