"""Opening the run store safely, detecting a damaged ``results.sqlite``, and rebuilding it.

A store damaged on disk (truncated, overwritten, a flipped page) is detected when it is opened
(``PRAGMA quick_check``) and when a row does not parse; either way :class:`StoreCorrupt` says how
to rebuild it: ``vcmbench results RUNDIR --rebuild-store``.

The rebuild is exact, never a guess.  Its sources are each job's copy of its row,
``records/<job_id>.json`` (written atomically before the row), and, for jobs without one (runs made
before that copy existed), the rows that can still be read from the damaged file.  A row is kept only
if it agrees with the files the run holds — the record and the predictions parse, the predictions equal
``predictions/<job_id>.json`` (written before the row), and a recorded bitstream file still exists.
Everything else is dropped, so the next ``vcmbench run`` with the same arguments redoes exactly those
jobs.  The damaged file is kept beside, as ``results.sqlite.damaged-<time>``, for inspection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..core.errors import DataError

DB_FILE = "results.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,          -- 'code' (image x scale x QP) or 'reference' (uncompressed image)
    image_id    TEXT NOT NULL,
    scale       REAL,
    qp          INTEGER,
    record      TEXT NOT NULL,          -- JSON: records.JobRecord (code) or reference metadata
    predictions TEXT,                   -- JSON: tasks.Detections, NULL when the bitstream did not verify
    finished    REAL NOT NULL           -- unix time
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLS = "job_id, kind, image_id, scale, qp, record, predictions, finished"


class StoreCorrupt(DataError):
    """The run's results.sqlite is damaged."""


def _fix(run_dir: Path) -> str:
    return (f"Rebuild it with `vcmbench results {run_dir} --rebuild-store` (it keeps every finished job whose row "
            "is readable and whose files are intact), then re-run the same `vcmbench run` to redo the rest.")


def _corrupt(run_dir: Path, why: str) -> StoreCorrupt:
    return StoreCorrupt(f"The result store {run_dir / DB_FILE} is damaged ({why}). {_fix(run_dir)}")


def _loads(text: Any, run_dir: Path, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise _corrupt(run_dir, f"the row of {what} does not parse") from None


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


def _open_db(run_dir: Path) -> sqlite3.Connection:
    """Open (creating if new) and integrity-check the run's store."""
    path = run_dir / DB_FILE
    if path.exists() and not path.is_file():
        raise DataError(f"{path} is not a regular file; move it away (a run's store is a SQLite file).")
    db = None
    try:
        db = _connect(path)
        rows = db.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            raise _corrupt(run_dir, "; ".join(str(r[0]) for r in rows[:3]))
        return db
    except sqlite3.DatabaseError as exc:
        if db is not None:
            db.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise DataError(f"The result store {path} is locked by another process ({exc}); wait for it to "
                            "finish, or choose another --out.") from None
        from ..core.storage import unwritable

        fault = unwritable(run_dir, exc)  # a read-only or full disk is not a damaged store
        if fault is not None:
            raise fault from None
        raise _corrupt(run_dir, str(exc)) from None
    except StoreCorrupt:
        if db is not None:
            db.close()
        raise


def check_store(run_dir: str | os.PathLike) -> None:
    """Check a run's ``results.sqlite`` without writing to it (``vcmbench results``: the same check as a
    run's, on a folder that may be read-only): :class:`StoreCorrupt` naming the rebuild when it is damaged.
    A folder without a store (a copied result set) passes."""
    run_dir = Path(run_dir)
    path = run_dir / DB_FILE
    if not path.exists():
        return
    if not path.is_file():
        raise DataError(f"{path} is not a regular file; move it away (a run's store is a SQLite file).")
    # a run kept on read-only media: SQLite cannot make the WAL index beside it, so it is read as immutable
    mode = "mode=ro" if os.access(run_dir, os.W_OK) else "immutable=1"
    db = None
    try:
        db = sqlite3.connect(f"file:{path}?{mode}", uri=True, timeout=5.0)
        rows = db.execute("PRAGMA quick_check").fetchall()
        db.execute("SELECT COUNT(*) FROM jobs").fetchone()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DataError(f"The result store {path} is locked by another process ({exc}); wait for it to "
                            "finish.") from None
        raise _corrupt(run_dir, str(exc)) from None
    finally:
        if db is not None:
            db.close()
    if [r[0] for r in rows] != ["ok"]:
        raise _corrupt(run_dir, "; ".join(str(r[0]) for r in rows[:3]))


def _salvage(path: Path, limit: int) -> tuple[list[tuple], list[tuple], str]:
    """Rows that can still be read from a damaged store (jobs, meta) and what went wrong."""
    jobs: list[tuple] = []
    meta: list[tuple] = []
    problem = ""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.DatabaseError as exc:
        return jobs, meta, str(exc)
    try:
        seen: set[int] = set()
        try:
            for row in db.execute(f"SELECT rowid, {_COLS} FROM jobs ORDER BY rowid"):
                seen.add(row[0])
                jobs.append(row[1:])
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
            # a damaged page stops the scan: look the remaining rows up one by one (bounded)
            for rowid in range(max(seen, default=0) + 1, max(seen, default=0) + 1 + limit):
                try:
                    row = db.execute(f"SELECT rowid, {_COLS} FROM jobs WHERE rowid = ?", (rowid,)).fetchone()
                except sqlite3.DatabaseError:
                    continue
                if row is not None and row[0] not in seen:
                    seen.add(row[0])
                    jobs.append(row[1:])
        try:
            meta = list(db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            problem = problem or str(exc)
    finally:
        db.close()
    return jobs, meta, problem


def _row_copies(run_dir: Path) -> dict[str, tuple]:
    """The rows saved beside the store as ``records/<job_id>.json`` (unreadable copies are skipped)."""
    out: dict[str, tuple] = {}
    for f in sorted((run_dir / "records").glob("*.json")):
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
            row = tuple(d[k] for k in ("job_id", "kind", "image_id", "scale", "qp", "record", "predictions",
                                       "finished"))
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            continue
        if row[0] == f.stem:
            out[row[0]] = row
    return out


def _row_intact(run_dir: Path, row: tuple) -> bool:
    job_id, kind, image_id, scale, qp, record, predictions, finished = row
    if not isinstance(job_id, str) or not job_id or "/" in job_id or not isinstance(record, str):
        return False
    try:
        rec = json.loads(record)
        pred = None if predictions is None else json.loads(predictions)
    except (TypeError, ValueError, RecursionError):
        return False
    if not isinstance(rec, dict):
        return False
    if pred is not None:
        pfile = run_dir / "predictions" / f"{job_id}.json"
        try:
            if not pfile.is_file() or json.loads(pfile.read_text(encoding="utf-8")) != pred:
                return False
        except (OSError, ValueError, RecursionError):
            return False
    bs = rec.get("bitstream")
    if isinstance(bs, str) and bs:
        p = (run_dir / bs).resolve()
        if run_dir.resolve() not in p.parents or not p.is_file():
            return False
    return True


def rebuild_store(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Rebuild ``RUNDIR/results.sqlite`` from what can still be read and agrees with the run's files.

    Returns ``{"kept": n, "dropped": m, "damaged_copy": path or None, "problem": text}``.  The caller
    holds the run lock (see ``RunStore.lock``)."""
    run_dir = Path(run_dir)
    path = run_dir / DB_FILE
    if not run_dir.is_dir():
        raise DataError(f"Run directory {run_dir} does not exist; give the --out directory of a `vcmbench run`.")
    n_files = sum(1 for _ in (run_dir / "predictions").glob("*.json")) + sum(
        1 for _ in (run_dir / "bitstreams").glob("*.266"))
    jobs, meta, problem = _salvage(path, 2 * n_files + 1000) if path.is_file() else ([], [], "missing")
    copies = _row_copies(run_dir)
    jobs = list(copies.values()) + [r for r in jobs if r[0] not in copies]
    kept = [r for r in jobs if _row_intact(run_dir, r)]
    tmp = run_dir / f".{DB_FILE}.rebuild.tmp"
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    db = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        db.executescript(SCHEMA)
        db.execute("BEGIN")
        db.executemany(f"INSERT OR REPLACE INTO jobs ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", kept)
        db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       [m for m in meta if isinstance(m[0], str) and isinstance(m[1], str)])
        db.execute("COMMIT")
    finally:
        db.close()
    damaged = None
    if path.exists():
        damaged = run_dir / f"{DB_FILE}.damaged-{time.strftime('%Y%m%dT%H%M%S')}"
        os.replace(path, damaged)
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    os.replace(tmp, path)
    return {"kept": len(kept), "dropped": len(jobs) - len(kept), "damaged_copy": str(damaged) if damaged else None,
            "problem": problem}
