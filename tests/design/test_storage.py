"""Study storage: workers that start together on a new SQLite file all succeed, and a database
password never reaches an output of a study or its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from nassb.design.study import _creation_race, _disk_full, _first_line

from ..conftest import run_process


def _trials(storage: str, study: str) -> list:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def _workers(storage: str, study: str, count: int, trials: int) -> list[subprocess.CompletedProcess]:
    args = [sys.executable, "-m", "nassb.reports.cli", "design", "--storage", storage, "--study", study,
            "--trials", str(trials), "--json"]
    workers = [subprocess.Popen([*args, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for seed in range(1, count + 1)]
    return [(w, *w.communicate(timeout=300)) for w in workers]


@pytest.mark.slow
@pytest.mark.parametrize("round_", [1, 2])
def test_four_sqlite_workers_starting_together_on_a_new_file_all_succeed(tmp_path, round_):
    storage = f"sqlite:///{tmp_path / 'new.db'}"
    done = _workers(storage, "race", count=4, trials=3)
    assert [w.returncode for w, _, _ in done] == [0, 0, 0, 0], [err for _, _, err in done]
    import optuna

    trials = _trials(storage, "race")
    assert sorted(t.number for t in trials) == list(range(12))  # every trial stored once
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)


def test_a_table_creation_race_is_retried_and_other_database_errors_are_not():
    import sqlalchemy.exc

    def operational(text):
        return sqlalchemy.exc.OperationalError("CREATE TABLE studies", {}, Exception(text))

    assert _creation_race(operational("table studies already exists"))
    assert _creation_race(operational("database is locked"))
    assert not _creation_race(operational("unable to open database file"))
    assert not _creation_race(operational("database or disk is full"))
    assert _disk_full(operational("database or disk is full")) and not _disk_full(operational("database is locked"))
    assert not _creation_race(sqlalchemy.exc.ProgrammingError("CREATE", {}, Exception("permission denied for schema")))


def test_database_errors_show_the_url_masked():
    import sqlalchemy.exc

    err = sqlalchemy.exc.OperationalError(
        "connect", {}, Exception('connection to "postgresql://u:PASSWORD@h/db" failed\nDETAIL: more'))
    line = _first_line(err)
    assert "PASSWORD" not in line and "u:***@h" in line and "\n" not in line


def test_a_storage_error_masks_the_password(nassb):
    # Nothing listens on port 9: the connection fails, and the message quotes the URL masked.
    run = nassb("design", "--storage", "postgresql://nassb:PASSWORD@127.0.0.1:9/db", "--trials", "1")
    assert run.code == 2 and "--storage" in run.err and "PASSWORD" not in run.err
    assert "nassb:***@127.0.0.1:9" in run.err
    run = nassb("report", "--study", "s", "--storage", "postgresql://nassb:PASSWORD@127.0.0.1:9/db",
                "--out", "unused")
    assert run.code == 2 and "PASSWORD" not in run.err


def _postgres_url() -> str:
    url = os.environ.get("NASSB_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide NASSB_TEST_POSTGRES (.ci/run starts the server)")
        pytest.skip("no PostgreSQL server (set NASSB_TEST_POSTGRES)")
    return url


def _with_password(url: str, password: str) -> str:
    scheme, _, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    assert at, f"NASSB_TEST_POSTGRES needs a user: {url}"
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{password}@{host}"


@pytest.mark.slow
def test_no_output_of_a_study_or_its_report_holds_the_password(tmp_path):
    # The CI server trusts loopback connections, so any password is accepted; it must show up
    # nowhere: not in stdout, stderr, the JSON, summary.json, report.html or report.md.
    password = f"S3cretPw{os.getpid()}x{int(time.time())}"
    url = _with_password(_postgres_url(), password)
    study = f"secret-{os.getpid()}-{int(time.time())}"
    outputs = []
    for extra in (["--json"], []):
        run = run_process("design", "--storage", url, "--study", study, "--trials", "3", "--seed", "1", *extra)
        assert run.returncode == 0, run.stderr.replace(password, "***")
        outputs += [run.stdout, run.stderr]
    document = json.loads(outputs[0])
    assert document["storage"] == url.replace(password, "***")
    report = tmp_path / "report"
    run = run_process("report", "--study", study, "--storage", url, "--out", str(report))
    assert run.returncode == 0, run.stderr.replace(password, "***")
    outputs += [run.stdout, run.stderr]
    files = {name: (report / name).read_text(encoding="utf-8") for name in ("summary.json", "report.html", "report.md")}
    provenance = json.loads(files["summary.json"])["provenance"]
    assert provenance["storage"] == url.replace(password, "***")
    assert "--storage " + url.replace(password, "***") in provenance["command"]
    # An error that quotes the URL: a database that does not exist.
    missing = url.rsplit("/", 1)[0] + "/no_such_database_here"
    run = run_process("design", "--storage", missing, "--trials", "1")
    assert run.returncode == 2
    outputs += [run.stdout, run.stderr]
    leaks = [i for i, text in enumerate(outputs) if password in text]
    leaks += [name for name, text in files.items() if password in text]
    assert leaks == []


def test_a_full_disk_under_the_storage_is_one_line(nassb, tmp_path, monkeypatch):
    import optuna
    import sqlalchemy.exc

    def full(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("CREATE TABLE studies", {}, Exception("database or disk is full"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", full)
    run = nassb("design", "--storage", f"sqlite:///{tmp_path / 'full.db'}", "--trials", "1")
    assert run.code == 2 and run.err.count("\n") == 1
    assert run.err.startswith("nassb: --storage: no space left on device")


def test_a_disk_that_fills_during_the_search_is_one_line_and_keeps_the_trials(nassb, tmp_path, monkeypatch):
    import optuna
    import sqlalchemy.exc

    storage = f"sqlite:///{tmp_path / 'fills.db'}"
    assert nassb("design", "--storage", storage, "--study", "s", "--trials", "3", "--seed", "1").code == 0
    original = optuna.study.Study.optimize

    def fills(self, func, n_trials=None, **kwargs):  # one more trial, then the disk is full
        original(self, func, n_trials=1, **kwargs)
        raise optuna.exceptions.StorageInternalError("commit failed") from sqlalchemy.exc.OperationalError(
            "INSERT INTO trials", {}, Exception("database or disk is full"))

    monkeypatch.setattr(optuna.study.Study, "optimize", fills)
    run = nassb("design", "--storage", storage, "--study", "s", "--trials", "5", "--seed", "1")
    assert run.code == 2 and run.err.count("\n") == 1, run.err
    assert run.err.startswith("nassb: --storage: the search stopped: no space left on device")
    assert "4 finished trials are kept" in run.err


# -- reading a storage: nassb studies and the reports of a study write nothing -------------------

def _nassb_study(storage: str, name: str = "listed", trials: int = 3) -> None:
    """A study with nassb's marks and ``trials`` complete trials (no scoring: listing reads them)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=name, storage=storage)
    study.set_user_attr("nassb_search", {})
    study.set_user_attr("nassb_description", "SYNTHETIC listing test")
    study.set_user_attr("nassb_card", "paper-cell-1")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=trials)


def test_studies_on_a_server_that_does_not_answer_is_one_line(nassb):
    run = nassb("studies", "--storage", "postgresql://nassb:PASSWORD@127.0.0.1:9/db")
    assert run.code == 2 and run.err.count("\n") == 1 and "Traceback" not in run.err
    assert run.err.startswith("nassb: --storage: cannot open the storage 'postgresql://nassb:***@127.0.0.1:9/db'")


def test_studies_of_a_file_that_is_no_storage_is_one_line(nassb, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    run = nassb("studies", "--storage", f"sqlite:///{junk}")
    assert run.code == 2 and run.err.count("\n") == 1 and "cannot open the storage" in run.err


def test_a_storage_that_cannot_be_written_is_read_without_writing(nassb, tmp_path, monkeypatch):
    # What a read-only mount does, as any user: the file is opened read-only and left untouched.
    from nassb.design import storage as storage_module

    path = tmp_path / "shared.db"
    _nassb_study(f"sqlite:///{path}")
    before = path.read_bytes()
    monkeypatch.setattr(storage_module, "writable", lambda _path: False)
    run = nassb("studies", "--storage", f"sqlite:///{path}", "--json")
    assert run.code == 0, run.err
    [listed] = run.json()["studies"]
    assert (listed["study"], listed["trials"], listed["running"], listed["failed"]) == ("listed", 3, 0, 0)
    assert path.read_bytes() == before and not (tmp_path / "shared.db-wal").exists()


def test_studies_on_a_read_only_mount_are_listed(nassb, tmp_path, read_only_view):
    folder = tmp_path / "shared"
    folder.mkdir()
    _nassb_study(f"sqlite:///{folder / 'shared.db'}", trials=2)
    view = read_only_view(folder)
    run = nassb("studies", "--storage", f"sqlite:///{view / 'shared.db'}", "--json")
    assert run.code == 0, run.err
    assert [(s["study"], s["trials"]) for s in run.json()["studies"]] == [("listed", 2)]
    text = nassb("studies", "--storage", f"sqlite:///{view / 'shared.db'}")
    assert text.code == 0 and "listed" in text.out and "Traceback" not in text.err
