"""Run directory and SQLite result store: caching, resume, atomic writes.

Layout of a run directory (``RUNDIR``)::

    condition.json   resolved condition (overrides under ``_overrides``, the condition's content hash under ``_content_hash``)
    run.json         how the run was asked for: data dir, codec options, label, plan, command lines
    env.json         provenance (vcmbench.run.env.collect_env)
    commands.log     every external command line, one per line, prefixed with the job id (a copy: the
                     store keeps each job's command lines in its record, ``extra.commands``)
    bitstreams/      <job_id>.266 (written to a temporary name, then renamed)
    logs/            codec logs per job
    predictions/     <job_id>.json task-network output (Detections JSON)
    records/         <job_id>.json a copy of each job's row, written before it (rebuilds a damaged store)
    results.sqlite   one row per finished job (the store of record)
    resultset.json   the records.ResultSet built from the store
    tmp/             scratch (YUV files); emptied when a run starts

Concurrency and crash safety: only the parent process writes the database (WAL journal,
``synchronous=FULL``); workers return results.  A job's row is inserted in one transaction
after its bitstream and predictions files are in place, so a job is either finished (row
present, files complete) or not started; killing the process at any moment loses at most the
jobs in flight, which a re-run redoes.  Job ids are content hashes, so ``INSERT OR REPLACE``
of a re-done job writes the same row: nothing is duplicated.  An exclusive lock file refuses a
second run on the same directory at the same time.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..core.errors import DataError, StorageError, UsageError
from ..core.jsonio import atomic_write_text, read_json, write_json
from ..core.storage import ReadOnlyOutput, is_storage_fault, storage_error, unwritable
from .store_repair import DB_FILE, SCHEMA, StoreCorrupt, _loads, _open_db, rebuild_store  # noqa: F401 (re-exported)

_CHUNK = 500  # job ids per ``IN (...)`` lookup (well under SQLite's limit on bound parameters)


class RunStore:
    """A run directory with its SQLite store.  Use as a context manager to hold the run lock."""

    def __init__(self, run_dir: str | os.PathLike, create: bool = True) -> None:
        self.dir = Path(run_dir)
        self.created: Path | None = None  # the top folder this call created: removed again if the run fails empty
        if not self.dir.exists():
            if not create:
                raise DataError(f"Run directory {self.dir} does not exist; give the --out directory of a `vcmbench run`.")
            self.created = _first_missing(self.dir)
            try:  # two runs started at the same instant both get here: creating is idempotent
                self.dir.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                pass
            except OSError as exc:
                self._discard_created()
                raise (unwritable(self.dir, exc) or exc) from None
        try:
            self._open(create)
        except (OSError, sqlite3.Error, StorageError, ReadOnlyOutput) as exc:  # (not other errors: a run
            # started beside may own the folder)
            fault = exc if isinstance(exc, (StorageError, ReadOnlyOutput)) else unwritable(self.dir, exc)
            if fault is None:
                raise
            self._discard_created()
            raise fault from None

    def _open(self, create: bool) -> None:
        if not self.dir.is_dir():
            raise UsageError(f"{self.dir} exists and is not a directory; choose another --out.")
        if not create and not (self.dir / DB_FILE).is_file():
            raise DataError(f"{self.dir} holds no {DB_FILE}: is it a vcmbench run directory? "
                            "Give the --out directory of a `vcmbench run`.")
        for sub in ("bitstreams", "logs", "predictions", "records", "tmp"):
            if create:
                (self.dir / sub).mkdir(exist_ok=True)
        self._lock_fh = None
        self.reaped: list[str] = []  # tool process groups of a killed run, killed when this one took the lock
        with _opening(self.dir):
            self._db = _open_db(self.dir)

    # -- locking ------------------------------------------------------------------------------------
    def lock(self) -> "RunStore":
        """Take the exclusive run lock (a second `vcmbench run` on this directory is refused), kill the tool
        process groups a killed run left running (recorded in ``tmp/<job>/pgroups``), then empty ``tmp``."""
        from ..core.process import reap_recorded_groups

        self._lock_fh = _take_lock(self.dir)
        self.reaped = [g for d in sorted((self.dir / "tmp").glob("*/pgroups")) for g in reap_recorded_groups(d)]
        self.clean_tmp()
        return self

    def unlock(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def close(self) -> None:
        self.unlock()
        self._db.close()

    def __enter__(self) -> "RunStore":
        return self.lock()

    def __exit__(self, et: Any, *exc: Any) -> None:
        """Release the lock; a run that failed before storing any job in a folder it created leaves nothing."""
        try:
            empty = et is not None and self.created is not None and self.count() == 0
        except Exception:  # noqa: BLE001 - an unreadable store is kept for inspection
            empty = False
        self.close()
        if empty:
            self._discard_created()

    def _discard_created(self) -> None:
        if self.created is not None:
            shutil.rmtree(self.created, ignore_errors=True)
            self.created = None

    def clean_tmp(self) -> None:
        """Remove scratch files and half-written outputs left by a killed run."""
        shutil.rmtree(self.dir / "tmp", ignore_errors=True)
        (self.dir / "tmp").mkdir(exist_ok=True)
        for sub in ("bitstreams", "predictions", "records", "logs"):
            for f in (self.dir / sub).rglob(".*.tmp*"):
                f.unlink(missing_ok=True)
        for f in self.dir.glob(".*.tmp*"):  # resultset.json, env.json ... written atomically beside
            f.unlink(missing_ok=True)

    # -- paths ----------------------------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        return self.dir.joinpath(*parts)

    def job_tmp(self, job_id: str) -> Path:
        d = self.dir / "tmp" / f"{job_id}-{os.getpid()}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    # -- metadata files ---------------------------------------------------------------------------------
    def write_meta_json(self, name: str, obj: Any) -> Path:
        try:
            return write_json(self.dir / name, obj)
        except OSError as exc:
            fault = unwritable(self.dir, exc)
            if fault is not None:
                raise fault from None
            raise

    def write_meta_text(self, name: str, text: str) -> Path:
        """``write_meta_json`` for JSON already made into text (atomic)."""
        try:
            return atomic_write_text(self.dir / name, text)
        except OSError as exc:
            fault = unwritable(self.dir, exc)
            if fault is not None:
                raise fault from None
            raise

    def read_meta_json(self, name: str) -> Any:
        p = self.dir / name
        if not p.exists():
            raise DataError(f"{p} is missing: is {self.dir} a complete vcmbench run directory? Re-run `vcmbench run`.")
        return read_json(p)

    def append_commands(self, job_id: str, commands: list[list[str]]) -> None:
        """Append command lines to commands.log (a log, not the store of record: a crash may cut a line)."""
        if not commands:
            return
        import shlex

        with open(self.dir / "commands.log", "a", encoding="utf-8") as fh:
            for cmd in commands:
                fh.write(f"{job_id}\t{shlex.join(str(c) for c in cmd)}\n")

    # -- jobs -------------------------------------------------------------------------------------------
    def done_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT job_id FROM jobs")}

    def stale_bitstreams(self) -> set[str]:
        """Coded jobs whose kept bitstream is missing, is not ``bits / 8`` bytes long, or no longer has the
        recorded SHA-256 (``extra.bitstream_sha256``): a resume re-runs them instead of trusting the row."""
        from ..core.hashing import file_digest

        stale = set()
        for job_id, rec_text in self._db.execute("SELECT job_id, record FROM jobs WHERE kind = 'code'"):
            try:
                rec = json.loads(rec_text)
                path = self.dir / rec["bitstream"]
                ok = path.is_file() and path.stat().st_size * 8 == int(rec["bits"])
                digest = (rec.get("extra") or {}).get("bitstream_sha256")
                if ok and digest:
                    ok = file_digest(path, "sha256") == digest
            except (KeyError, TypeError, ValueError, OSError):
                ok = False
            if not ok:
                stale.add(job_id)
        return stale

    def put(self, job_id: str, kind: str, image_id: str, scale: float | None, qp: int | None,
            record: dict[str, Any], predictions: dict[str, Any] | None) -> None:
        """Record a finished job: predictions file and the row's copy ``records/<job_id>.json`` first
        (atomic; what a rebuild of a damaged store reads), then the row (one transaction).  A disk fault
        raises :class:`StorageError` and records nothing (the job is redone on resume)."""
        try:
            self._put(job_id, kind, image_id, scale, qp, record, predictions)
        except (OSError, sqlite3.Error) as exc:
            if is_storage_fault(exc):
                raise storage_error(exc, f"storing job {job_id} in {self.dir}") from None
            raise

    def _put(self, job_id: str, kind: str, image_id: str, scale: float | None, qp: int | None,
             record: dict[str, Any], predictions: dict[str, Any] | None) -> None:
        if predictions is not None:
            atomic_write_text(self.dir / "predictions" / f"{job_id}.json", json.dumps(predictions))
        rec = json.dumps(record, sort_keys=True)
        pred = None if predictions is None else json.dumps(predictions, sort_keys=True)
        finished = time.time()
        atomic_write_text(self.dir / "records" / f"{job_id}.json", json.dumps(
            {"job_id": job_id, "kind": kind, "image_id": image_id, "scale": scale, "qp": qp, "record": rec,
             "predictions": pred, "finished": finished}))
        with self._tx():
            self._db.execute(
                "INSERT OR REPLACE INTO jobs (job_id, kind, image_id, scale, qp, record, predictions, finished) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (job_id, kind, image_id, scale, qp, rec, pred, finished))

    def get(self, job_id: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        row = self._db.execute("SELECT record, predictions FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            return None
        return _loads(row[0], self.dir, job_id), (None if row[1] is None else _loads(row[1], self.dir, job_id))

    def rows(self, kind: str | None = None) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
        sql = "SELECT job_id, record, predictions FROM jobs"
        args: tuple = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        for job_id, rec, pred in self._db.execute(sql + " ORDER BY job_id", args):
            yield job_id, _loads(rec, self.dir, job_id), (None if pred is None else _loads(pred, self.dir, job_id))

    def records(self, job_ids: Iterable[str], predictions: bool = False
                ) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
        """``(job_id, record, predictions)`` of the stored ones of ``job_ids``, looked up by primary key in chunks
        (memory and time proportional to ``job_ids``, not to the store); ``predictions`` False leaves them
        unread (None)."""
        cols = "job_id, record" + (", predictions" if predictions else "")
        ids = list(job_ids)
        for k in range(0, len(ids), _CHUNK):
            chunk = ids[k:k + _CHUNK]
            sql = f"SELECT {cols} FROM jobs WHERE job_id IN ({','.join('?' * len(chunk))})"
            for row in self._db.execute(sql, chunk):
                pred = row[2] if predictions else None
                yield row[0], _loads(row[1], self.dir, row[0]), (None if pred is None else _loads(pred, self.dir, row[0]))

    def code_ids_flagged(self, key: str) -> set[str]:
        """Coded jobs whose record's ``extra`` holds ``key`` with a true value (e.g. ``awaiting_score``).  SQLite
        selects the rows whose record text names the key (records are written by ``json.dumps``: a key is always
        spelled out), Python confirms: a resume reads the few flagged rows, not every row."""
        out = set()
        for job_id, rec in self._db.execute("SELECT job_id, record FROM jobs WHERE kind = 'code' AND instr(record, ?) > 0",
                                            (json.dumps(key),)):
            if (_loads(rec, self.dir, job_id).get("extra") or {}).get(key):
                out.add(job_id)
        return out

    def unverified_ids(self) -> set[str]:
        """Coded jobs stored with a bitstream that did not verify (records read one at a time, predictions never)."""
        return {job_id for job_id, rec in self._db.execute("SELECT job_id, record FROM jobs WHERE kind = 'code'")
                if not _loads(rec, self.dir, job_id)["verified"]}

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            return int(self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])
        return int(self._db.execute("SELECT COUNT(*) FROM jobs WHERE kind = ?", (kind,)).fetchone()[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self._tx():
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else _loads(row[0], self.dir, key)

    def _tx(self):
        db = self._db

        class _Tx:
            def __enter__(self_inner):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, et, ev, tb):
                db.execute("COMMIT" if et is None else "ROLLBACK")

        return _Tx()


def _first_missing(path: Path) -> Path:
    """The top-most folder of ``path`` that does not exist yet (what creating it makes)."""
    top = path
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    return top


def _take_lock(run_dir: Path):
    import fcntl

    try:
        fh = open(run_dir / ".lock", "a+")
    except OSError as exc:
        raise UsageError(f"Cannot create the run lock in {run_dir} ({exc.strerror}); "
                         "choose a writable --out.") from None
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise UsageError(f"Another vcmbench run is using {run_dir} right now; wait for it or choose another --out.") from None
    return fh


def repair_store(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Rebuild a damaged ``results.sqlite`` under the run lock (see ``store_repair.rebuild_store``)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"Run directory {run_dir} does not exist; give the --out directory of a `vcmbench run`.")
    fh = _take_lock(run_dir)
    try:
        return rebuild_store(run_dir)
    finally:
        fh.close()


class _opening:
    """Serialise opening the store: two runs started at the same instant would otherwise race on
    creating the SQLite schema and switching to WAL ("database is locked") before either reaches the
    run lock, which is where the second must be refused.  Held only while opening."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / ".open.lock"
        self.fh = None

    def __enter__(self):
        import fcntl

        try:
            self.fh = open(self.path, "a+")
        except OSError:  # a read-only run directory: nobody can be creating it
            return self
        fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fh is not None:
            self.fh.close()
