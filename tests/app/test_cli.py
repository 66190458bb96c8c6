"""Exit status and messages: 0 on success, 2 with one plain message on the user's mistakes."""

import gzip
import json

import pytest

from levy.cli import main
from tests.app.scenario import SITE_TOML, write_feed, write_site


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def config(tmp_path):
    return write_site(tmp_path)


def test_check_config_accepts_a_valid_site(config, capsys):
    status, out, _ = run(capsys, "check-config", "-c", str(config))
    assert status == 0 and "4 meters" in out


def test_check_config_lists_every_error_with_its_key_path(tmp_path, capsys):
    broken = SITE_TOML.replace('rated_kw = "3.6"', 'rated_kw = "-1"')
    broken = broken.replace('id = "scenario-1"', 'id = "scenario-1"\ncolour = "red"')
    (tmp_path / "site.toml").write_text(broken)
    status, out, err = run(capsys, "check-config", "-c", str(tmp_path / "site.toml"))
    assert status == 2 and out == ""
    assert "meters[0].rated_kw" in err and "site.colour" in err
    assert "Traceback" not in err


def test_a_missing_config_file_is_one_plain_message(tmp_path, capsys):
    status, _, err = run(capsys, "report", "-c", str(tmp_path / "nope.toml"), "--period", "2026-10")
    assert status == 2 and "nope.toml" in err and "Traceback" not in err


def test_replay_of_a_missing_feed_is_a_plain_error(config, tmp_path, capsys):
    status, _, err = run(capsys, "replay", "-c", str(config), "-i", str(tmp_path / "none.jsonl"))
    assert status == 2 and "cannot read" in err and "Traceback" not in err


def test_replay_reads_gzip_and_counts_malformed_lines_with_their_number(
    config, tmp_path, capsys, caplog
):
    plain = tmp_path / "feed.jsonl"
    write_feed(plain)
    packed = tmp_path / "feed.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    status, out, _ = run(capsys, "replay", "-c", str(config), "-i", str(packed))
    assert status == 0
    assert "lines read        12783 = accepted 12779 + rejected 3 + ignored 0 + malformed 1" in out
    assert "feed.jsonl.gz line 5001: not JSON" in caplog.text


def test_report_before_any_replay_says_there_is_no_ledger(config, capsys):
    status, _, err = run(capsys, "report", "-c", str(config), "--period", "2026-10")
    assert status == 2 and "no ledger" in err


def test_report_of_a_malformed_period_is_refused(config, tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    run(capsys, "replay", "-c", str(config), "-i", str(feed))
    status, _, err = run(capsys, "report", "-c", str(config), "--period", "October")
    assert status == 2 and "YYYY-MM" in err


def test_closing_too_early_names_the_time_it_will_succeed(config, tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    run(capsys, "replay", "-c", str(config), "-i", str(feed), "--until", "2026-11-01T00:10")
    status, _, err = run(capsys, "close", "-c", str(config), "--period", "2026-10")
    assert status == 2
    assert "closing is possible from 2026-11-01T00:15:00+05:00" in err
    status, _, _ = run(capsys, "replay", "-c", str(config), "-i", str(feed))
    assert status == 0
    status, out, _ = run(capsys, "close", "-c", str(config), "--period", "2026-10")
    assert status == 0 and "closed 2026-10" in out


def test_a_closed_period_is_frozen_against_a_new_meter(config, tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    run(capsys, "replay", "-c", str(config), "-i", str(feed))
    run(capsys, "close", "-c", str(config), "--period", "2026-10")
    text = (
        config.read_text()
        + '\n[[meters]]\nid = "rig-5"\ntopic = "mining/x/rig-5"\nrated_kw = "1"\n'
    )
    config.write_text(text)
    status, _, err = run(capsys, "replay", "-c", str(config), "-i", str(feed))
    assert status == 2 and "rig-5" in err and "closed period" in err


def test_a_ledger_of_another_site_is_refused(config, tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    run(capsys, "replay", "-c", str(config), "-i", str(feed))
    config.write_text(config.read_text().replace('id = "scenario-1"', 'id = "other-site"', 1))
    status, _, err = run(capsys, "replay", "-c", str(config), "-i", str(feed))
    assert status == 2 and "belongs to site 'scenario-1'" in err


def test_report_formats_csv_and_table_carry_the_same_totals(config, tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    run(capsys, "replay", "-c", str(config), "-i", str(feed))
    _, as_json, _ = run(
        capsys, "report", "-c", str(config), "--period", "2026-10", "--format", "json"
    )
    _, as_csv, _ = run(
        capsys, "report", "-c", str(config), "--period", "2026-10", "--format", "csv"
    )
    _, as_table, _ = run(capsys, "report", "-c", str(config), "--period", "2026-10")
    total = json.loads(as_json)["totals"]["fee_tenge"]
    assert f"site,all,,,,,,,7335.900,768.800,8104.700,{total}{',' * 10}" in as_csv.splitlines()
    assert total in next(line for line in as_table.splitlines() if line.startswith("TOTAL "))


def test_a_ledger_that_cannot_be_created_is_a_plain_error(tmp_path, capsys):
    (tmp_path / "blocked").write_text("a file where the ledger's folder should be")
    config = tmp_path / "site.toml"
    config.write_text(SITE_TOML.replace("var/october-demo.sqlite", "blocked/ledger.sqlite"))
    feed = tmp_path / "feed.jsonl"
    write_feed(feed)
    status, _, err = run(capsys, "replay", "-c", str(config), "-i", str(feed))
    assert status == 2 and "blocked/ledger.sqlite" in err and "Traceback" not in err
