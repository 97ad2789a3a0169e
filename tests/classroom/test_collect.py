"""Collection from real Jupyter servers on loopback, from folders and from the upload widget, into SQLite.

Four sources: two servers holding results (one with PYNQ's password login, one with a token),
one whose password is not PYNQ's, and a loopback port with nothing listening.
"""

from __future__ import annotations

import datetime
import gzip
import sqlite3

import pytest

from labkit import classroom
from labkit.classroom import Store, StoreError, collect_folder, collect_servers, collect_uploads, expand_sources

from jupyter_servers import free_port, records_text, start_servers, stop_servers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def class_records() -> list[dict]:
    return list(classroom.read_records(classroom.SYNTHETIC_CLASS))[:120]


@pytest.fixture(scope="module")
def servers(tmp_path_factory, class_records):
    a, b, c = class_records[:50], class_records[50:90], class_records[90:]
    specs = [
        # a board: results in the delivered notebooks folder and in a sub-folder
        {"password": "xilinx", "files": {"pynq-transfer-lab/labkit-results.jsonl": records_text(a[:30]),
                                         "pynq-transfer-lab/old/labkit-results.jsonl": records_text(a[30:]),
                                         "pynq-transfer-lab/notes.txt": "not results"}},
        {"token": "s3cret", "files": {"pynq-transfer-lab/labkit-results.jsonl": records_text(b)}},
        {"password": "not-xilinx", "files": {"pynq-transfer-lab/labkit-results.jsonl": records_text(c)}},
    ]
    running = start_servers(specs, tmp_path_factory.mktemp("jupyter"))
    yield running
    stop_servers(running)


def test_collects_from_servers_with_per_source_errors_and_no_duplicates(servers, tmp_path):
    nothing = f"http://127.0.0.1:{free_port()}"  # nobody listens here
    password_servers = [servers[0].url, servers[2].url, nothing]
    seen = []
    with Store(tmp_path / "class.sqlite") as store:
        first = collect_servers(password_servers, store, path="pynq-transfer-lab",
                                progress=lambda done, total, report: seen.append((done, total, report.source)))
        by_source = {r.source: r for r in first.sources}
        assert by_source[servers[0].url].ok and by_source[servers[0].url].found == 50
        assert by_source[servers[0].url].new == 50 and len(by_source[servers[0].url].files) == 2
        assert "password was refused" in by_source[servers[2].url].error
        assert "cannot reach" in by_source[nothing].error
        assert sorted(d for d, _, _ in seen) == [1, 2, 3] and all(t == 3 for _, t, _ in seen)
        token = collect_servers([servers[1].url], store, path="pynq-transfer-lab", token="s3cret")
        assert token.sources[0].ok and token.new == 40
        assert store.count() == 90
        again = collect_servers(password_servers, store, path="pynq-transfer-lab")
        assert again.found == 50 and again.new == 0 and store.count() == 90  # re-running adds nothing


def test_a_wrong_token_is_an_error_of_that_source(servers, tmp_path):
    with Store(":memory:") as store:
        result = collect_servers([servers[1].url], store, path="pynq-transfer-lab", token="wrong")
    assert "token or password" in result.sources[0].error and result.new == 0


def test_a_missing_folder_is_reported(servers):
    with Store(":memory:") as store:
        result = collect_servers([servers[0].url], store, path="no-such-folder")
    assert "no folder or file 'no-such-folder'" in result.sources[0].error


def test_folder_collection_each_file_a_source(tmp_path, class_records):
    folder = tmp_path / "shared"
    (folder / "ada").mkdir(parents=True)
    (folder / "ada" / "labkit-results.jsonl").write_text(records_text(class_records[:10]))
    (folder / "bob.jsonl.gz").write_bytes(gzip.compress(records_text(class_records[10:25]).encode()))
    (folder / "broken.jsonl").write_text("{not json\n")
    with Store(":memory:") as store:
        result = collect_folder(folder, store)
        assert result.found == 25 and result.new == 25 and store.count() == 25
        (broken,) = result.errors
        assert broken.source.endswith("broken.jsonl") and "line 1" in broken.error
        assert collect_folder(folder, store).new == 0


def test_uploads_go_into_the_store(class_records):
    upload = ({"name": "team-3.jsonl", "type": "", "size": 0, "content": memoryview(records_text(class_records[:7]).encode())},)
    with Store(":memory:") as store:
        assert collect_uploads(upload, store).new == 7
        assert collect_uploads(upload, store).new == 0
        widget = classroom.upload_widget(store)
        widget.children[0].value = ({"name": "more.jsonl", "type": "", "size": 0,
                                     "last_modified": datetime.datetime.now(datetime.timezone.utc),
                                     "content": memoryview(records_text(class_records[7:9]).encode())},)
        assert store.count() == 9


def test_store_refuses_another_schema_version_and_foreign_files(tmp_path):
    path = tmp_path / "class.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        Store(path)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a pynq-transfer-lab store"):
        Store(other)


def test_store_round_trip(class_records):
    with Store(":memory:") as store:
        store.add(class_records)
        assert sorted(store.records(), key=lambda r: r["id"]) == sorted(class_records, key=lambda r: r["id"])
        assert store.count(kind="sweep") == sum(r["kind"] == "sweep" for r in class_records)


def test_expand_sources():
    assert expand_sources("192.168.2.10-12") == [f"http://192.168.2.{n}:9090" for n in (10, 11, 12)]
    assert expand_sources(["10.0.0.0/30", "board7:8888", "http://x:1/"]) == [
        "http://10.0.0.1:9090", "http://10.0.0.2:9090", "http://board7:8888", "http://x:1"]
    with pytest.raises(ValueError, match="LO <= HI"):
        expand_sources("1.2.3.9-4")


def test_an_interrupted_collection_keeps_what_it_stored(tmp_path, class_records):
    folder = tmp_path / "shared"
    folder.mkdir()
    for n in range(3):
        (folder / f"s{n}.jsonl").write_text(records_text(class_records[n * 10:(n + 1) * 10]))

    def interrupt(done, total, report):
        raise KeyboardInterrupt

    with Store(tmp_path / "class.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            collect_folder(folder, store, progress=interrupt)
        assert store.count() == 10  # the first file, stored before the interruption
        assert collect_folder(folder, store).new == 20  # re-running completes it


def test_an_interrupted_server_collection_keeps_what_it_stored(servers, tmp_path):
    def interrupt(done, total, report):
        raise KeyboardInterrupt

    with Store(tmp_path / "class.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            collect_servers([servers[0].url, servers[2].url], store, path="pynq-transfer-lab", workers=1,
                            progress=interrupt)
        assert store.count() == 50  # one worker: the first server was collected and stored before the interruption
        again = collect_servers([servers[0].url], store, path="pynq-transfer-lab")
        assert again.found == 50 and again.new == 0
