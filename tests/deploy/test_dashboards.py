"""Grafana's provisioning (deploy/grafana/): the files parse and name only the provisioned
InfluxDB data source; every raw InfluxQL query of every dashboard and alert rule, with Grafana's
variables and macros put in as Grafana 11 sends them (tests/deploy/grafana.py), runs on the real
InfluxQL engine (InfluxDB 1.6) over a month that `levy-monitor export` wrote, and returns data;
the site overview's month to date is the report's, to the tiyn."""

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.deploy import grafana
from tests.deploy.grafana import ALL, Variable
from tests.live.harness import levy
from tests.tsdb.servers import InfluxDB16, V2WriteProxy, http

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
PROVISIONING = GRAFANA / "provisioning"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = PROVISIONING / "datasources" / "levy-influxdb.yaml"
PROVIDERS = PROVISIONING / "dashboards" / "levy.yaml"
RULES = PROVISIONING / "alerting" / "levy-rules.yaml"
DS_UID = "levy-influxdb"
EXPRESSIONS = "__expr__"
DASHBOARD_FILES = ("levy-site-overview.json", "levy-meter-health.json", "levy-rig.json")

ALMATY = ZoneInfo("Asia/Almaty")
OCTOBER = datetime(2026, 10, 1, tzinfo=ALMATY)
NOVEMBER = datetime(2026, 11, 1, tzinfo=ALMATY)
TOKEN_ENV = "LEVY_TEST_INFLUX_TOKEN"
TOKEN = "grafana-test-token"
DB = "levy"
WIDTHS = (300, 1600)
"""Panel widths in pixels, Grafana's max data points: two different $__interval."""

TRICKY_SITE = 'Экибастуз "Север", участок=2'
TRICKY_METERS = {
    "rig-1": "стойка 1, ряд=Б",
    "rig-2": 'rig "2" it\'s',
    "rig-3": "3.5kW (top)|*+?",
    "rig-4": "a/b\\c ^$[x]{1}.",
}
"""The demo site again under ids with spaces, commas, `=`, quotes, Cyrillic and regex syntax:
its meters keep their topics, so the same feed bills them the same."""

MACROS = {"timeFilter", "__interval"}
VARIABLES = {"site", "meter"}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dashboards() -> dict[str, dict]:
    return {
        name: json.loads((DASHBOARDS / name).read_text(encoding="utf-8"))
        for name in DASHBOARD_FILES
    }


def rules() -> list[dict]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def datasource_references(node, path="") -> list[tuple[str, object]]:
    """Every `datasource`/`datasourceUid` value anywhere in a JSON or YAML document."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("datasource", "datasourceUid"):
                found.append((f"{path}.{key}", value))
            found += datasource_references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += datasource_references(value, f"{path}[{index}]")
    return found


# The files


def test_every_provisioning_file_parses() -> None:
    files = sorted(PROVISIONING.rglob("*"))
    assert {p.relative_to(PROVISIONING).as_posix() for p in files if p.is_file()} == {
        "datasources/levy-influxdb.yaml",
        "dashboards/levy.yaml",
        "alerting/levy-rules.yaml",
    }
    for path in (p for p in files if p.is_file()):
        assert load_yaml(path)["apiVersion"] == 1, path
    assert sorted(p.name for p in DASHBOARDS.iterdir()) == sorted(DASHBOARD_FILES)
    for name, model in dashboards().items():
        assert model["uid"] and model["title"] and model["panels"], name


def test_the_data_source_is_influxql_with_the_token_header_from_the_environment() -> None:
    (source,) = load_yaml(DATASOURCES)["datasources"]
    assert source["uid"] == DS_UID and source["name"] == "levy InfluxDB"
    assert source["type"] == "influxdb" and source["access"] == "proxy"
    assert source["url"] == "${LEVY_INFLUX_URL}"
    json_data = source["jsonData"]
    assert json_data["version"] == "InfluxQL"
    assert json_data["dbName"] == "${LEVY_INFLUX_BUCKET}"
    assert json_data["httpMode"] == "POST"
    assert json_data["httpHeaderName1"] == "Authorization"
    assert source["secureJsonData"] == {"httpHeaderValue1": "Token ${LEVY_INFLUX_TOKEN}"}


def test_the_dashboards_provider_reads_the_mounted_folder() -> None:
    (provider,) = load_yaml(PROVIDERS)["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def test_dashboards_and_rules_name_only_the_provisioned_data_source() -> None:
    for name, model in dashboards().items():
        references = datasource_references(model)
        assert references, name
        for where, value in references:
            assert value == {"type": "influxdb", "uid": DS_UID}, f"{name}{where}: {value}"
    for rule in rules():
        for query in rule["data"]:
            uid = query["datasourceUid"]
            assert uid in (DS_UID, EXPRESSIONS), f"{rule['uid']}: {uid}"
            assert query["model"]["datasource"]["uid"] == uid
            assert query["model"]["datasource"]["type"] == (
                "influxdb" if uid == DS_UID else EXPRESSIONS
            )


def test_every_panel_query_is_raw_influxql_over_the_time_filter() -> None:
    for name, model in dashboards().items():
        targets = grafana.dashboard_targets(model)
        assert targets, name
        for panel, target in targets:
            where = f"{name} {panel['title']!r} {target['refId']}"
            assert target["rawQuery"] is True, where
            query = target["query"]
            assert query.strip(), where
            assert "$timeFilter" in query, where
            assert "now()" not in query.lower(), where
            assert set(re.findall(r"\$(\w+)", query)) <= MACROS | VARIABLES, where
            assert "[[" not in query and "${" not in query, where
            assert panel["description"], where


def test_the_variables_are_regex_escaped_tag_values() -> None:
    """Multi-value, so that Grafana regex-escapes every value it puts in `/^$site$/`, also in
    the meter variable's own query, which Grafana interpolates without looking at regexes."""
    for name, model in dashboards().items():
        variables = {one["name"]: one for one in grafana.query_variables(model)}
        site = variables["site"]
        assert (
            grafana.variable_text(site) == 'SHOW TAG VALUES FROM "levy_interval" WITH KEY = "site"'
        )
        assert site["multi"] and site["includeAll"] and not site.get("allValue"), name
        if name == "levy-rig.json":
            meter = variables["meter"]
            assert grafana.variable_text(meter) == (
                'SHOW TAG VALUES FROM "levy_interval" WITH KEY = "meter" WHERE "site" =~ /^$site$/'
            )
            assert meter["multi"] and not meter.get("allValue")
        else:
            assert set(variables) == {"site"}, name
        for one in variables.values():
            assert one["datasource"]["uid"] == DS_UID


def test_the_alert_rules_are_complete() -> None:
    found = {rule["uid"]: rule for rule in rules()}
    assert set(found) == {"levy-meter-silent", "levy-deemed-share", "levy-export-lag"}
    for rule in found.values():
        refs = {query["refId"]: query for query in rule["data"]}
        assert rule["condition"] in refs
        assert rule["noDataState"] in ("OK", "NoData", "Alerting")
        assert rule["execErrState"] in ("OK", "Error", "Alerting")
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        for query in rule["data"]:
            model = query["model"]
            if query["datasourceUid"] == DS_UID:
                assert model["rawQuery"] is True and "$timeFilter" in model["query"]
                assert set(re.findall(r"\$(\w+)", model["query"])) == {"timeFilter"}
                assert query["relativeTimeRange"]["from"] > query["relativeTimeRange"]["to"] == 0
            else:
                assert model["type"] in ("reduce", "threshold", "math")
                assert model["expression"] in refs
    assert found["levy-export-lag"]["noDataState"] == "Alerting", "no heartbeat is alerting"
    thresholds = {
        uid: next(q for q in rule["data"] if q["model"].get("type") == "threshold")["model"][
            "conditions"
        ][0]["evaluator"]["params"][0]
        for uid, rule in found.items()
    }
    assert thresholds == {
        "levy-meter-silent": 3600,
        "levy-deemed-share": 0.05,
        "levy-export-lag": 900,
    }
    comments = RULES.read_text(encoding="utf-8")
    for value in ("3600 s", "5 % (0.05)", "900 s"):
        assert value in comments, f"the rules file documents {value}"


# Grafana's substitution, on examples from Grafana's own tests


def test_values_are_escaped_as_grafana_escapes_them() -> None:
    path = Variable("tempVar", value="/special/path")
    assert grafana.replace_variables("select that where path =~ /$tempVar/", {"tempVar": path}) == (
        "select that where path =~ /\\/special\\/path/"
    )
    assert grafana.replace_variables("select that where path = '$tempVar'", {"tempVar": path}) == (
        "select that where path = '/special/path'"
    )
    every = Variable("tempVar", include_all=True, options=["env", "env2", "env3"], value=ALL)
    assert grafana.replace_variables("from path =~ /^($tempVar)$/", {"tempVar": every}) == (
        "from path =~ /^((env|env2|env3))$/"
    )
    several = Variable("tempVar", multi=True, value=["/special/path", "/some/other/path"])
    assert grafana.replace_variables("where path = '$tempVar'", {"tempVar": several}) == (
        "where path = '(\\/special\\/path|\\/some\\/other\\/path)'"
    )
    url = Variable("url", multi=True, value="https://aaaa-aa-aaa.bbb.ccc.ddd:8443/ggggg")
    assert grafana.replace_variables("agent_url =~ /^$url$/", {"url": url}) == (
        "agent_url =~ /^https:\\/\\/aaaa-aa-aaa\\.bbb\\.ccc\\.ddd:8443\\/ggggg$/"
    )
    number = Variable("tempVar", multi=True, value="1.0")
    assert grafana.replace_variables("value / $tempVar", {"tempVar": number}) == "value / 1.0"
    # A lone value JavaScript reads as a number stays as it is, as in Grafana; a multi-value
    # variable holds a list, which is always escaped.
    assert grafana.interpolate_expr("3.5kW (top)", Variable("m", multi=True), "") == "3.5kW (top)"
    assert grafana.interpolate_expr(["3.5kW (top)"], Variable("m", multi=True), "") == (
        "(3\\.5kW \\(top\\))"
    )
    assert grafana.replace_variables("$timeFilter $__interval $nope", {}) == (
        "$timeFilter $__interval $nope"
    )


def test_intervals_and_macros_are_filled_in_as_the_backend_does() -> None:
    start, end = ms(OCTOBER), ms(NOVEMBER)
    assert grafana.panel_interval_ms(start, end, 1000, None) == 30 * 60_000
    assert grafana.panel_interval_ms(start, end, 1000, "1h") == 3_600_000
    assert grafana.panel_interval_ms(start, end, 100, "1m") == 6 * 3_600_000
    assert grafana.format_interval(30 * 86_400_000) == "30d"
    assert grafana.format_interval(1000) == "1s"
    assert grafana.backend_build("WHERE $timeFilter GROUP BY time($__interval)", 1, 2, 60_000) == (
        "WHERE time >= 1ms and time <= 2ms GROUP BY time(1m)"
    )


# On the real engine, over months that `levy-monitor export` wrote


@dataclass
class Site:
    id: str
    meters: list[str]
    report: dict
    config: Path


@dataclass
class Exported:
    influx: InfluxDB16
    sites: dict[str, Site] = field(default_factory=dict)
    heartbeat_ms: int = 0

    def series(self, query: str) -> list[dict]:
        return self.influx.series(query, DB)


def site_config(folder: Path, proxy_url: str, site_id: str | None) -> Path:
    """config/october-demo.toml with its own ledger and the test's InfluxDB; under `site_id`
    and the tricky meter ids when given."""
    text = (ROOT / "config" / "october-demo.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^path = ".*"$', f"path = {json.dumps(str(folder / 'ledger.sqlite'))}", text)
    if site_id is not None:
        text = text.replace('id = "scenario-1"', f"id = {json.dumps(site_id, ensure_ascii=False)}")
        for plain, tricky in TRICKY_METERS.items():
            text = text.replace(f'id = "{plain}"', f"id = {json.dumps(tricky, ensure_ascii=False)}")
    text += (
        f'\n[influx]\nurl = "{proxy_url}"\norg = "levy"\nbucket = "{DB}"\n'
        f'token_env = "{TOKEN_ENV}"\n'
    )
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "site.toml"
    config.write_text(text, encoding="utf-8")
    return config


def export_month(config: Path) -> dict:
    feed = ROOT / "config" / "october-demo.jsonl.gz"
    for argv in (
        ("replay", "-c", str(config), "-i", str(feed), "--until", NOVEMBER.isoformat()),
        ("export", "-c", str(config)),
    ):
        done = levy(*argv)
        assert done.returncode == 0, f"{argv[0]}: {done.stderr}"
    done = levy("report", "-c", str(config), "--period", "2026-10", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tag_value(text: str) -> str:
    return re.sub(r"([,= ])", r"\\\1", text)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Exported:
    """One InfluxDB 1.6 behind the v2 write path for all the query tests, holding October 2026
    of the demo site twice, exported by `levy-monitor export`: as it is, and under tricky ids;
    and a few export heartbeats (`levy_export`, written by the daemon only) for the lag rule."""
    folder = tmp_path_factory.mktemp("grafana")
    influx = InfluxDB16(folder / "influxdb").start()
    proxy = V2WriteProxy(influx, TOKEN).start()
    previous = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = TOKEN
    try:
        influx.create_database(DB)
        found = Exported(influx)
        for name, site_id in (("demo", None), ("tricky", TRICKY_SITE)):
            config = site_config(folder / name, proxy.url, site_id)
            report = export_month(config)
            meters = [meter["meter"] for meter in report["meters"]]
            found.sites[report["site"]] = Site(report["site"], meters, report, config)
        assert set(found.sites) == {"scenario-1", TRICKY_SITE}
        assert set(found.sites[TRICKY_SITE].meters) == set(TRICKY_METERS.values())
        found.heartbeat_ms = ms(NOVEMBER)
        lines = [
            f"levy_export,site={tag_value(site)} lag_s={lag},pending_rows={lag / 10} {at}"
            for site in found.sites
            for at, lag in ((found.heartbeat_ms - 120_000, 30.0), (found.heartbeat_ms, 0.0))
        ]
        status, body = http(
            "POST",
            f"{proxy.url}/api/v2/write?bucket={DB}&precision=ms",
            "\n".join(lines).encode(),
            {"Authorization": f"Token {TOKEN}"},
        )
        assert status == 204, body
        yield found
    finally:
        if previous is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = previous
        proxy.stop()
        influx.stop()


SELECTIONS = ("scenario-1", TRICKY_SITE, ALL)
RANGES = {
    "October up to the ledger clock": (ms(OCTOBER), ms(NOVEMBER)),
    "October as Grafana's 'this month'": (ms(OCTOBER), ms(NOVEMBER) - 1),
    "October and the days around it": (
        ms(OCTOBER - timedelta(days=3)),
        ms(NOVEMBER + timedelta(days=3)),
    ),
}
FULL_RANGE = "October up to the ledger clock"


def variables_for(exported: Exported, selection: str) -> dict[str, Variable]:
    """The site variable set to one site (a multi-value variable holds a list) or All, and the
    meter variable to every meter of the site(s), as Grafana would pass them."""
    models = {one["name"]: one for one in grafana.query_variables(dashboards()["levy-rig.json"])}
    sites = sorted(exported.sites)
    chosen = sites if selection == ALL else [selection]
    meters = sorted(meter for site in chosen for meter in exported.sites[site].meters)
    return {
        "site": Variable.from_model(
            models["site"], sites, ALL if selection == ALL else [selection]
        ),
        "meter": Variable.from_model(models["meter"], meters, meters),
    }


def has_data(series: list[dict]) -> bool:
    return any(
        value is not None
        for serie in series
        for row in serie["rows"]
        for column, value in row.items()
        if column != "time"
    )


def panel_text(target: dict, panel: dict, variables: dict, span: tuple, width: int) -> str:
    """The panel's min interval, else the data source's, bounds $__interval from below."""
    source = load_yaml(DATASOURCES)["datasources"][0]
    minimum = panel.get("interval") or source["jsonData"].get("timeInterval")
    return grafana.panel_query(target, variables, *span, width, minimum)


@pytest.mark.parametrize("selection", SELECTIONS, ids=("demo", "tricky", "all"))
@pytest.mark.parametrize("dashboard", DASHBOARD_FILES)
def test_every_panel_query_returns_data(exported, dashboard, selection) -> None:
    """Over October up to the ledger clock (where `export` puts the meters' states and the
    quarter), for one site, the other or all, at two panel widths: data, of the sites selected."""
    variables = variables_for(exported, selection)
    for panel, target in grafana.dashboard_targets(dashboards()[dashboard]):
        for width in WIDTHS:
            text = panel_text(target, panel, variables, RANGES[FULL_RANGE], width)
            series = exported.series(text)
            assert has_data(series), f"{panel['title']!r} {target['refId']}: no data from {text}"
            if selection != ALL:
                assert {s["tags"].get("site", selection) for s in series} == {selection}, text


def test_the_variables_list_the_sites_and_their_meters(exported) -> None:
    model = dashboards()["levy-rig.json"]
    variables = {one["name"]: one for one in grafana.query_variables(model)}
    (listed,) = exported.series(grafana.variable_text(variables["site"]))
    assert {row["value"] for row in listed["rows"]} == set(exported.sites)
    for selection in SELECTIONS:
        chosen = variables_for(exported, selection)
        text = grafana.variable_query(grafana.variable_text(variables["meter"]), chosen)
        listed = exported.series(text)
        expected = {
            m
            for site in exported.sites.values()
            if selection in (ALL, site.id)
            for m in site.meters
        }
        assert {row["value"] for serie in listed for row in serie["rows"]} == expected, text


def test_one_meter_selects_its_own_rows_only(exported) -> None:
    """Each tricky id alone, as the Rig dashboard's meter variable: its billed intervals and
    none of another meter's, however many regex characters it holds."""
    (table,) = [
        target
        for panel, target in grafana.dashboard_targets(dashboards()["levy-rig.json"])
        if panel["title"] == "Billed intervals"
    ]
    site = exported.sites[TRICKY_SITE]
    for meter in site.meters:
        variables = variables_for(exported, TRICKY_SITE)
        variables["meter"].value = [meter]
        text = grafana.panel_query(table, variables, *RANGES[FULL_RANGE], 1000, None)
        series = exported.series(text)
        assert {s["tags"]["meter"] for s in series} == {meter}, text
        kwh = sum(Decimal(str(row["kwh"])) for s in series for row in s["rows"])
        (reported,) = [m for m in site.report["meters"] if m["meter"] == meter]
        assert abs(kwh - Decimal(reported["kwh"])) < Decimal("0.001"), meter


def overview_panel(title: str) -> dict:
    (target,) = [
        target
        for panel, target in grafana.dashboard_targets(dashboards()["levy-site-overview.json"])
        if panel["title"] == title
    ]
    return target


@pytest.mark.parametrize("span", RANGES)
def test_the_month_to_date_is_the_reports_to_the_tiyn(exported, span) -> None:
    for site in exported.sites.values():
        variables = variables_for(exported, site.id)
        total = grafana.panel_query(
            overview_panel("Levy, month to date"), variables, *RANGES[span], 1000, None
        )
        (serie,) = exported.series(total)
        (value,) = [row["last"] for row in serie["rows"]]
        assert Decimal(repr(value)) == Decimal(site.report["totals"]["fee_tenge"]), (site.id, total)
        by_supply = grafana.panel_query(
            overview_panel("Levy by supply"), variables, *RANGES[span], 1000, None
        )
        found = {s["tags"]["supply"]: s["rows"][-1]["last"] for s in exported.series(by_supply)}
        expected = {
            supply: Decimal(figures["fee_tenge"])
            for supply, figures in site.report["by_supply"].items()
            if Decimal(figures["kwh"]) > 0
        }
        assert {supply: Decimal(repr(value)) for supply, value in found.items()} == expected, (
            by_supply
        )


def test_every_alert_query_returns_data(exported) -> None:
    """Each rule's data query, evaluated at the ledger clock (the export's heartbeats end there),
    over the rule's own relative time range."""
    found = {}
    for rule in rules():
        for query in rule["data"]:
            if query["datasourceUid"] != DS_UID:
                continue
            span = query["relativeTimeRange"]
            text = grafana.alert_query(
                query["model"], span["from"], span["to"], exported.heartbeat_ms
            )
            series = exported.series(text)
            assert has_data(series), f"{rule['uid']}: no data from {text}"
            found[rule["uid"]] = {tuple(sorted(s["tags"].items())): s["rows"][-1] for s in series}
    silent = found["levy-meter-silent"]
    never = {
        m["meter"]
        for site in exported.sites.values()
        for m in site.report["meters"]
        if Decimal(m["metered_kwh"]) == 0
    }
    assert never, "the demo month has a meter that never sent a reading"
    for tags, row in silent.items():
        meter = dict(tags)["meter"]
        if meter in never:
            assert row["min"] == 1e9, (meter, row)
        else:
            assert 0 <= row["min"] < 3600, (meter, row)
    assert len(silent) == sum(len(site.meters) for site in exported.sites.values())
    for site in exported.sites.values():
        share = found["levy-deemed-share"][(("site", site.id),)]["last"]
        totals = site.report["totals"]
        assert abs(
            Decimal(repr(share)) - Decimal(totals["deemed_kwh"]) / Decimal(totals["kwh"])
        ) < Decimal("1e-9")
        assert found["levy-export-lag"][(("site", site.id),)]["last"] == 0
