"""What the InfluxDB output needs of influxdb-client (which imports numpy): loaded by the
output's first write, so that a daemon (or a command) that never writes never loads it."""

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
from urllib3 import Retry
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError, TimeoutError

from levy.export.output import WriteFailure

TIMEOUT_MS = 10_000
RETRIES = Retry(
    total=3,
    backoff_factor=0.5,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=None,
    raise_on_status=False,
)
"""Within one write: three more tries, 0.5 s apart and doubling; a point written twice
overwrites itself, so retrying a POST is safe."""

REFUSALS = {
    400: "rejected",
    401: "unauthorized",
    403: "unauthorized",
    404: "not_found",
    413: "rejected",
    422: "rejected",
}


class InfluxWriter:
    def __init__(self, url: str, token: str, org: str, bucket: str) -> None:
        self.bucket = bucket
        self.org = org
        self.client = InfluxDBClient(
            url=url, token=token, org=org, timeout=TIMEOUT_MS, enable_gzip=True, retries=RETRIES
        )
        self.api = self.client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: list[str]) -> None:
        """The lines as one text: given a list, the client serializes each line in two Python
        calls of its own (a tenth of an export pass at 10,000 meters); the body is the same."""
        try:
            self.api.write(self.bucket, self.org, "\n".join(lines), WritePrecision.MS)  # type: ignore[arg-type]
        except ApiException as exc:
            raise _answered(exc) from None
        except (MaxRetryError, TimeoutError, HTTPError, OSError) as exc:
            raise _unreached(exc) from None

    def close(self) -> None:
        self.client.close()


def _answered(exc: ApiException) -> WriteFailure:
    status = exc.status or 0
    reason = REFUSALS.get(status, "unavailable")
    said = exc.message or exc.reason or ""
    return WriteFailure(
        reason, f"InfluxDB answered HTTP {status} {said}".strip(), refused=status in REFUSALS
    )


def _unreached(exc: Exception) -> WriteFailure:
    cause = getattr(exc, "reason", None) or exc
    if isinstance(cause, TimeoutError) and not isinstance(cause, NewConnectionError):
        return WriteFailure("timeout", f"InfluxDB did not answer within {TIMEOUT_MS // 1000} s")
    return WriteFailure("unreachable", f"InfluxDB cannot be reached: {_plain(cause)}")


def _plain(cause: object) -> str:
    """urllib3's messages name the connection object; the last clause is the useful part."""
    return str(cause).rsplit(": ", 1)[-1]
