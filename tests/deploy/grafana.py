"""What Grafana 11 sends to InfluxDB for a raw InfluxQL query of a provisioned dashboard panel,
dashboard variable or alert rule, so a test can run that very text on a real InfluxDB.

Read from Grafana's own source (github.com/grafana/grafana, the InfluxDB data source since the
InfluxQL backend mode became the default in 10.3, which Grafana 11 runs):

- public/app/plugins/datasource/influxdb/datasource.ts, `applyVariables` and
  `interpolateQueryExpr`: the browser replaces dashboard variables in the query text, each value
  through `interpolateQueryExpr(value, variable, query)`:
  a single value that JavaScript's `parseFloat` reads as a number is left as it is; otherwise a
  multi-value variable's value is regex-escaped, several values (or the "All" of an include-all
  variable without a custom all value) as `(a|b|c)`, each escaped; a variable that is neither is
  escaped only where the query uses it inside a regex literal `=~ /.../`, else left as it is.
  `$__interval` and `$__interval_ms` are kept for the backend; `$timeFilter` is no variable and
  stays. variables.ts (`InfluxVariableSupport`): a variable's own query is interpolated the same
  way, but without the query text, so there only multi-value variables are escaped.
- packages/grafana-data (`escapeRegex`, the former `kbn.regexEscape`): a backslash before each of
  `\\ ^ $ * + ? . ( ) | [ ] { } /`.
- public/app/features/templating/template_srv.ts: `$name`, `${name}` and `[[name]]` name a
  variable; a name that is no variable is left as written.
- pkg/tsdb/influxdb/models/query.go, `Build`: the backend replaces `$timeFilter` with
  `time >= <from>ms and time <= <to>ms`, then `$interval`, `$__interval_ms` and `$__interval`
  with the query's interval, written by grafana-plugin-sdk-go's `gtime.FormatInterval`.
- packages/grafana-data/src/datetime/rangeutil.ts, `calculateInterval` and `roundInterval`: the
  interval is the range divided by the panel's max data points (its width in pixels unless set),
  rounded to a step of Grafana's table, and at least the panel's min interval, else the data
  source's `timeInterval`. An alert query has its own `intervalMs` (1000 unless set).
"""

import re
from dataclasses import dataclass, field

ALL = "$__all"

_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_JS_FLOAT_PREFIX = re.compile(r"\s*[+-]?(Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)")
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)
_REGEX_LITERAL = re.compile(
    r"(\s*(=|!)~\s*)/((?![*+?])(?:[^\r\n\[/\\]|\\.|\[(?:[^\r\n\]\\]|\\.)*\])+)/"
    r"((?:g(?:im?|mi?)?|i(?:gm?|mg?)?|m(?:gi?|ig?)?)?)",
    re.MULTILINE,
)


def escape_regex(value: str) -> str:
    return _REGEX_SPECIAL.sub(lambda found: "\\" + found.group(0), value)


def parses_as_number(value: str) -> bool:
    """Whether JavaScript's `parseFloat(value)` is a number: it reads any numeric prefix."""
    return _JS_FLOAT_PREFIX.match(value) is not None


@dataclass
class Variable:
    """A dashboard variable as its JSON model declares it, with the value selected: a string,
    a list for several, or `ALL`."""

    name: str
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    options: list[str] = field(default_factory=list)
    value: str | list[str] = ""

    @classmethod
    def from_model(cls, model: dict, options: list[str], value: str | list[str]) -> "Variable":
        return cls(
            name=model["name"],
            multi=bool(model.get("multi")),
            include_all=bool(model.get("includeAll")),
            all_value=model.get("allValue") or None,
            options=options,
            value=value,
        )


def interpolate_expr(value: str | list[str], variable: Variable, query: str | None) -> str:
    """InfluxDatasource.interpolateQueryExpr, line for line."""
    if isinstance(value, str) and parses_as_number(value):
        return value
    if variable.multi:
        if isinstance(value, str):
            return escape_regex(value)
        return "(" + "|".join(escape_regex(one) for one in value) + ")"
    if not query:
        return value if isinstance(value, str) else ",".join(value)
    used_in_regex = re.compile(rf"/(?:\^)?(.*)(\${re.escape(variable.name)})(.*)(?:\$)?/")
    for literal in _REGEX_LITERAL.finditer(query):
        if used_in_regex.search(literal.group(0)):
            if isinstance(value, str):
                return escape_regex(value)
            return "(" + "|".join(escape_regex(one) for one in value) + ")"
    return value if isinstance(value, str) else ",".join(value)


def replace_variables(query: str, variables: dict[str, Variable], with_query: bool = True) -> str:
    """templateSrv.replace(query, scopedVars, interpolateQueryExpr): panels and alert rules pass
    the query text (`with_query`), a variable's own query does not."""

    def one(found: re.Match) -> str:
        name = found.group(1) or found.group(2) or found.group(4)
        if found.group(3) or found.group(6):
            raise NotImplementedError(f"explicit variable formats are not modelled: {found[0]}")
        variable = variables.get(name)
        if variable is None:
            return found.group(0)
        value = variable.value
        if value == ALL or value == [ALL]:
            if variable.all_value:
                return variable.all_value
            value = list(variable.options)
        return interpolate_expr(value, variable, query if with_query else None)

    return _VARIABLE.sub(one, query)


def round_interval(interval_ms: float) -> int:
    """rangeutil.roundInterval: the step Grafana rounds a raw interval to, in ms."""
    steps = (
        (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500),
        (1500, 1000), (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000),
        (25000, 20000), (45000, 30000), (90000, 60000), (210000, 120000), (450000, 300000),
        (750000, 600000), (1050000, 900000), (1500000, 1200000), (2700000, 1800000),
        (5400000, 3600000), (9000000, 7200000), (16200000, 10800000), (32400000, 21600000),
        (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000),
        (3628800000, 2592000000),
    )  # fmt: skip
    for below, step in steps:
        if interval_ms < below:
            return step
    return 31536000000


_INTERVAL_UNITS_MS = {
    "y": 31536000000, "M": 2592000000, "w": 604800000, "d": 86400000,
    "h": 3600000, "m": 60000, "s": 1000, "ms": 1,
}  # fmt: skip


def interval_to_ms(text: str) -> int:
    """rangeutil.intervalToMs: `30s`, `1m`, `1h`...; a bare number is seconds."""
    found = re.match(r"^(\d+(?:\.\d+)?)(ms|[Mwdhmsy])", text)
    if found is None:
        return int(float(text) * 1000)
    return int(float(found.group(1)) * _INTERVAL_UNITS_MS[found.group(2)])


def panel_interval_ms(
    from_ms: int, to_ms: int, max_data_points: int, min_interval: str | None
) -> int:
    """rangeutil.calculateInterval(range, maxDataPoints, panel min interval or the data
    source's timeInterval)."""
    low_limit = interval_to_ms(min_interval) if min_interval else 1
    return max(round_interval((to_ms - from_ms) / max_data_points), low_limit)


def format_interval(interval_ms: int) -> str:
    """gtime.FormatInterval: in the largest unit that fits, whole."""
    for unit in ("y", "d", "h", "m", "s", "ms"):
        size = _INTERVAL_UNITS_MS[unit]
        if interval_ms >= size:
            return f"{interval_ms // size}{unit}"
    return "1ms"


def backend_build(raw_query: str, from_ms: int, to_ms: int, interval_ms: int) -> str:
    """The backend's Query.Build for a raw query: the macros, in Grafana's order."""
    interval_ms = max(interval_ms, 1)
    text = format_interval(interval_ms)
    query = raw_query.replace("$timeFilter", f"time >= {from_ms}ms and time <= {to_ms}ms")
    query = query.replace("$interval", text)
    query = query.replace("$__interval_ms", str(interval_ms))
    return query.replace("$__interval", text)


def panel_query(
    target: dict,
    variables: dict[str, Variable],
    from_ms: int,
    to_ms: int,
    max_data_points: int,
    min_interval: str | None,
) -> str:
    """The InfluxQL a dashboard panel's raw target sends over a time range."""
    interval_ms = panel_interval_ms(from_ms, to_ms, max_data_points, min_interval)
    return backend_build(replace_variables(target["query"], variables), from_ms, to_ms, interval_ms)


def variable_query(query: str, variables: dict[str, Variable]) -> str:
    """The InfluxQL a query variable sends (interpolated without the query text)."""
    return replace_variables(query, variables, with_query=False)


def alert_query(model: dict, relative_from_s: int, relative_to_s: int, now_ms: int) -> str:
    """The InfluxQL an alert rule's data query sends when evaluated at `now_ms`: alert rules have
    no dashboard variables, only the backend's macros over the rule's relative time range."""
    return backend_build(
        model["query"],
        now_ms - relative_from_s * 1000,
        now_ms - relative_to_s * 1000,
        int(model.get("intervalMs", 1000)),
    )


def dashboard_targets(dashboard: dict) -> list[tuple[dict, dict]]:
    """Every (panel, target) of a dashboard, panels inside rows included."""
    found = []

    def walk(panels: list[dict]) -> None:
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                found.append((panel, target))

    walk(dashboard.get("panels", []))
    return found


def query_variables(dashboard: dict) -> list[dict]:
    return [
        one for one in dashboard.get("templating", {}).get("list", []) if one["type"] == "query"
    ]


def variable_text(model: dict) -> str:
    """A query variable's InfluxQL: a string, or `{"query": ...}` as newer Grafana saves it."""
    query = model["query"]
    return query["query"] if isinstance(query, dict) else query
