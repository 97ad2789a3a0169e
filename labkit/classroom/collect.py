"""Collect a class's records: from the boards' own Jupyter servers, from a folder, from uploaded files.

Every source is collected on its own: a board that is offline or a wrong password gives that
source an error and the others carry on.  Each source's records go into the store as soon as
they arrive (one transaction per source), so an interrupted collection keeps what it got, and
re-running adds no duplicates (records are keyed by their id).

Jupyter servers are read through Jupyter's own REST API (the contents API): a token
(``Authorization: token ...``) or a password (the server's ``/login`` form, as on PYNQ images:
port 9090, password ``xilinx``).  Every request has a timeout and every source a request budget.
"""

from __future__ import annotations

import concurrent.futures as cf
import http.cookiejar
import ipaddress
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .config import RESULTS_FILE
from .records import parse_lines
from .store import Store

__all__ = ["SourceReport", "Collection", "expand_sources", "collect_servers", "collect_folder", "collect_uploads",
           "fetch_server", "progress_bar", "upload_widget", "PYNQ_PORT", "PYNQ_PASSWORD"]

PYNQ_PORT = 9090  #: Jupyter's port on PYNQ images
PYNQ_PASSWORD = "xilinx"  #: the default password of PYNQ images
REQUEST_TIMEOUT_S = 5.0  #: one HTTP request
SOURCE_TIMEOUT_S = 30.0  #: all the requests of one server
MAX_REQUESTS = 200  #: requests per server (directory listings + files)
MAX_DEPTH = 3  #: folder levels searched below the root for results files
RESULTS_SUFFIX = ".jsonl"


@dataclass
class SourceReport:
    """What one source gave: records found and new, files read, or the error that stopped it."""

    source: str
    found: int = 0
    new: int = 0
    files: list[str] = field(default_factory=list)
    error: str | None = None
    skipped_lines: list[str] = field(default_factory=list)  #: lines that were not valid records
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        if self.error:
            return f"{self.source}: FAILED -- {self.error}"
        skipped = f", {len(self.skipped_lines)} invalid line(s) skipped" if self.skipped_lines else ""
        return (f"{self.source}: {self.found} records in {len(self.files)} file(s), {self.new} new{skipped} "
                f"({self.seconds:.2f} s measured)")


@dataclass
class Collection:
    """The reports of one collection, one per source."""

    sources: list[SourceReport]
    seconds: float = 0.0

    @property
    def found(self) -> int:
        return sum(s.found for s in self.sources)

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def errors(self) -> list[SourceReport]:
        return [s for s in self.sources if not s.ok]

    def __str__(self) -> str:
        head = (f"{len(self.sources)} source(s), {len(self.errors)} failed: {self.found} records found, "
                f"{self.new} new, in {self.seconds:.2f} s (measured)")
        return "\n".join([head] + [f"  {s}" for s in self.sources])

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


Progress = Callable[[int, int, SourceReport], Any]


# -- which servers --------------------------------------------------------------------------------------------

def expand_sources(specs: Iterable[str] | str, port: int = PYNQ_PORT) -> list[str]:
    """Server URLs from URLs, host names and address ranges.

    ``"192.168.2.10-12"`` -> three boards; ``"192.168.2.0/30"`` -> the usable hosts of the network;
    ``"board7"`` or ``"10.0.0.5:8888"`` -> one server; ``http(s)://...`` URLs are kept as they are.
    A host without a port gets ``port`` (9090, as on PYNQ images).
    """
    if isinstance(specs, str):
        specs = [s for s in specs.replace(",", " ").split() if s]
    urls: list[str] = []
    for spec in specs:
        spec = spec.strip()
        if spec.startswith(("http://", "https://")):
            urls.append(spec.rstrip("/"))
            continue
        host, _, host_port = spec.partition(":") if spec.count(":") == 1 else (spec, "", "")
        use_port = int(host_port) if host_port else port
        if "/" in host:
            hosts = [str(h) for h in ipaddress.ip_network(host, strict=False).hosts()]
        elif "-" in host and host.rsplit(".", 1)[-1].replace("-", "").isdigit() and host.count(".") == 3:
            prefix, last = host.rsplit(".", 1)
            first, _, end = last.partition("-")
            lo, hi = int(first), int(end)
            if not 0 <= lo <= hi <= 255:
                raise ValueError(f"address range {spec!r}: expected a.b.c.LO-HI with 0 <= LO <= HI <= 255")
            hosts = [f"{prefix}.{n}" for n in range(lo, hi + 1)]
        else:
            hosts = [host]
        urls += [f"http://{h}:{use_port}" for h in hosts]
    return list(dict.fromkeys(urls))


# -- one Jupyter server -------------------------------------------------------------------------------------

class _Session:
    """HTTP to one Jupyter server with a cookie jar, a request budget and a deadline."""

    def __init__(self, url: str, token: str | None, password: str | None, timeout: float, deadline: float) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.password = password
        self.timeout = timeout
        self.deadline = deadline
        self.requests = 0
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _open(self, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise RuntimeError(f"more than {MAX_REQUESTS} requests: too many folders; collect a narrower path")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"gave up after {SOURCE_TIMEOUT_S:g} s for this server")
        req = urllib.request.Request(self.url + path, data=data, headers=dict(headers or {}))
        if self.token:
            req.add_header("Authorization", f"token {self.token}")
        try:
            with self.opener.open(req, timeout=min(self.timeout, left)) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def login(self) -> None:
        if not self.password:
            return
        status, _ = self._open("/login")  # sets the _xsrf cookie the form must echo
        xsrf = next((c.value for c in self.jar if c.name == "_xsrf"), "")
        form = urllib.parse.urlencode({"password": self.password, "_xsrf": xsrf}).encode()
        status, _ = self._open("/login", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status >= 400 or not any(c.name.startswith("username-") for c in self.jar):
            raise PermissionError(f"the password was refused (HTTP {status}); PYNQ images use '{PYNQ_PASSWORD}'")

    def contents(self, path: str, content: bool = True) -> Any:
        quoted = urllib.parse.quote(path.strip("/"))
        suffix = "?content=1" if content else "?content=0"
        status, body = self._open(f"/api/contents/{quoted}{suffix}")
        if status in (401, 403):
            raise PermissionError(f"not logged in (HTTP {status}): give the server's token or password")
        if status == 404:
            raise FileNotFoundError(f"no folder or file {path or '/'!r} on this server (HTTP 404)")
        if status >= 400:
            raise RuntimeError(f"HTTP {status} for {path or '/'!r}: {body[:200].decode('utf-8', 'replace')}")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise RuntimeError(f"{self.url} answered, but not as a Jupyter server (no JSON from /api/contents)"
                               ) from exc


def _results_files(session: _Session, root: str) -> list[str]:
    """Paths of the results files under ``root`` (breadth first, at most MAX_DEPTH levels down)."""
    found, level = [], [root.strip("/")]
    for _ in range(MAX_DEPTH + 1):
        below = []
        for folder in level:
            listing = session.contents(folder)
            if listing.get("type") != "directory":
                raise NotADirectoryError(f"{folder!r} is a file on this server; give a folder")
            for item in listing.get("content") or []:
                if item["type"] == "directory" and not item["name"].startswith("."):
                    below.append(item["path"])
                elif item["type"] == "file" and _is_results_file(item["name"]):
                    found.append(item["path"])
        level = below
        if not level:
            break
    return sorted(found)


def _is_results_file(name: str) -> bool:
    return name == RESULTS_FILE or (name.startswith("labkit-results") and name.endswith(RESULTS_SUFFIX))


def fetch_server(url: str, *, path: str = "", token: str | None = None, password: str | None = PYNQ_PASSWORD,
                 timeout: float = REQUEST_TIMEOUT_S, source_timeout: float = SOURCE_TIMEOUT_S
                 ) -> tuple[list[dict[str, Any]], SourceReport]:
    """The records of every ``labkit-results*.jsonl`` under ``path`` on one Jupyter server (never raises)."""
    report = SourceReport(url)
    start = time.monotonic()
    records: list[dict[str, Any]] = []
    try:
        session = _Session(url, token, None if token else password, timeout, start + source_timeout)
        session.login()
        for file_path in _results_files(session, path):
            model = session.contents(file_path)
            text = model.get("content") or ""
            if model.get("format") == "base64":
                import base64

                text = base64.b64decode(text).decode("utf-8", "replace")
            got, bad = parse_lines(text, f"{url}/{file_path}")
            records += got
            report.skipped_lines += bad
            report.files.append(file_path)
    except urllib.error.URLError as exc:
        report.error = f"cannot reach the server ({exc.reason}); is the board on and on this network?"
    except (OSError, PermissionError, RuntimeError, ValueError) as exc:
        report.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, PermissionError) else str(exc)
    except Exception as exc:  # noqa: BLE001 -- one source's surprise must not stop the others
        report.error = f"{type(exc).__name__}: {exc}"
    report.found = len(records)
    report.seconds = time.monotonic() - start
    return records, report


def collect_servers(servers: Iterable[str] | str, store: Store, *, path: str = "", token: str | None = None,
                    password: str | None = PYNQ_PASSWORD, port: int = PYNQ_PORT, workers: int = 16,
                    timeout: float = REQUEST_TIMEOUT_S, source_timeout: float = SOURCE_TIMEOUT_S,
                    progress: Progress | None = None) -> Collection:
    """Collect from many Jupyter servers at once into ``store``; ``progress(done, total, report)`` per server.

    ``servers``: URLs, hosts or address ranges (see :func:`expand_sources`).  ``path`` is the folder on
    each server to search (e.g. ``"pynq-transfer-lab"``); ``token`` or ``password`` logs in.
    """
    urls = expand_sources(servers, port)
    start = time.monotonic()
    reports: list[SourceReport] = []
    pool = cf.ThreadPoolExecutor(max_workers=max(1, min(workers, len(urls) or 1)), thread_name_prefix="collect")
    try:
        futures = [pool.submit(fetch_server, u, path=path, token=token, password=password, timeout=timeout,
                               source_timeout=source_timeout) for u in urls]
        for future in cf.as_completed(futures):
            records, report = future.result()
            _store(store, records, report)  # at once: an interrupted collection keeps every source stored so far
            reports.append(report)
            if progress is not None:
                progress(len(reports), len(urls), report)
    finally:
        # Interrupted (Ctrl-C, a progress callback raising): sources not started are dropped; the few
        # running ones end within their request timeouts.
        pool.shutdown(wait=True, cancel_futures=True)
    order = {u: i for i, u in enumerate(urls)}
    reports.sort(key=lambda r: order[r.source])
    return Collection(reports, time.monotonic() - start)


def _store(store: Store, records: list[dict[str, Any]], report: SourceReport) -> None:
    if records:
        try:
            report.new = store.add(records, source=report.source)
        except Exception as exc:  # noqa: BLE001 -- one bad source must not stop the collection
            report.error = f"could not store its records: {type(exc).__name__}: {exc}"


# -- folders and uploads --------------------------------------------------------------------------------------

def collect_folder(folder: str | Path, store: Store, *, pattern: str = "**/*.jsonl*",
                   progress: Progress | None = None) -> Collection:
    """Collect every JSON Lines file under ``folder`` (a JupyterHub shared folder, files students uploaded).

    Each file is a source: a file that is not records gives that file an error, the rest go on.
    """
    folder = Path(folder)
    start = time.monotonic()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; give the folder the students' results files are in")
    files = sorted(p for p in folder.glob(pattern) if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz")))
    reports = []
    for number, file in enumerate(files, 1):
        reports.append(_collect_bytes(str(file), file.read_bytes(), store))
        if progress is not None:
            progress(number, len(files), reports[-1])
    return Collection(reports, time.monotonic() - start)


def collect_uploads(uploads: Sequence[Any] | dict, store: Store) -> Collection:
    """Collect files from an ``ipywidgets.FileUpload``'s ``value`` (ipywidgets 8: a tuple of dicts)."""
    start = time.monotonic()
    items = list(uploads.values()) if isinstance(uploads, dict) else list(uploads)
    reports = [_collect_bytes(str(item.get("name", "upload")), bytes(item["content"]), store) for item in items]
    return Collection(reports, time.monotonic() - start)


def _collect_bytes(name: str, data: bytes, store: Store) -> SourceReport:
    start = time.monotonic()
    report = SourceReport(name, files=[name])
    try:
        if name.endswith(".gz"):
            import gzip

            data = gzip.decompress(data)
        records, report.skipped_lines = parse_lines(data.decode("utf-8"), name)
        if not records and report.skipped_lines:
            report.error = f"no valid records ({report.skipped_lines[0]})"
        report.found = len(records)
        _store(store, records, report)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        report.error = f"{type(exc).__name__}: {exc}"
    report.seconds = time.monotonic() - start
    return report


def progress_bar(total_label: str = "sources") -> Progress:
    """A progress callback for the notebook: an ipywidgets bar and the last source's line."""
    import ipywidgets as w
    from IPython.display import display

    bar = w.IntProgress(value=0, min=0, max=1, description="Collected")
    line = w.HTML()
    display(w.VBox([bar, line]))

    def progress(done: int, total: int, report: SourceReport) -> None:
        with bar.hold_sync():
            bar.max, bar.value = total, done
        line.value = f"{done}/{total} {total_label}; last: {report}"

    return progress


def upload_widget(store: Store) -> Any:
    """A file-upload box for the notebook: files students hand in go straight into ``store``."""
    import ipywidgets as w

    upload = w.FileUpload(accept=".jsonl,.gz", multiple=True, description="Results files")
    out = w.Output()

    def received(change) -> None:
        collection = collect_uploads(change["new"], store)
        out.append_stdout(str(collection) + "\n")

    upload.observe(received, names="value")
    return w.VBox([upload, out])
