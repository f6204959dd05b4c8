"""Run directory + SQLite store: atomic job rows, no duplicates, the run lock, scratch cleanup."""

from __future__ import annotations

import json

import pytest

from vcmbench.core.errors import DataError, UsageError
from vcmbench.run.store import RunStore


def test_put_get_and_replace_without_duplicates(tmp_path):
    with RunStore(tmp_path / "run") as st:
        st.put("c1", "code", "img", 1.0, 22, {"bits": 8}, {"labels": []})
        st.put("r1", "reference", "img", None, None, {"x": 1}, None)
        st.put("c1", "code", "img", 1.0, 22, {"bits": 8}, {"labels": []})  # a redone job
        assert st.count() == 2 and st.count("code") == 1
        assert st.done_ids() == {"c1", "r1"}
        assert st.get("c1") == ({"bits": 8}, {"labels": []})
        assert st.get("nope") is None
        assert json.loads((tmp_path / "run" / "predictions" / "c1.json").read_text()) == {"labels": []}
        st.set_meta("k", [1, 2])
        assert st.get_meta("k") == [1, 2] and st.get_meta("absent", 5) == 5
    # persisted: a new store on the same directory sees the rows
    st2 = RunStore(tmp_path / "run", create=False)
    assert [r[0] for r in st2.rows("code")] == ["c1"]
    st2.close()


def test_lock_refuses_a_second_run(tmp_path):
    with RunStore(tmp_path / "run"):
        other = RunStore(tmp_path / "run")
        with pytest.raises(UsageError, match="Another vcmbench run"):
            other.lock()
        other.close()
    with RunStore(tmp_path / "run"):  # released
        pass


def test_lock_cleans_scratch_and_half_written_files(tmp_path):
    st = RunStore(tmp_path / "run")
    (st.path("tmp") / "job-1").mkdir()
    (st.path("tmp") / "job-1" / "src.yuv").write_bytes(b"x")
    (st.path("bitstreams") / ".c1.266.abc.tmp").write_bytes(b"partial")
    (st.path("bitstreams") / "c2.266").write_bytes(b"done")
    (st.path("logs") / "c7").mkdir()
    (st.path("logs") / "c7" / ".c7_encoder.log.x1.tmp").write_bytes(b"partial")
    (st.path("logs") / "c7" / "c7_decoder.log").write_bytes(b"done")
    (st.path("records") / ".c3.json.y2.tmp").write_bytes(b"partial")
    st.lock()
    assert list(st.path("tmp").iterdir()) == []
    assert [p.name for p in st.path("bitstreams").iterdir()] == ["c2.266"]
    assert [p.name for p in (st.path("logs") / "c7").iterdir()] == ["c7_decoder.log"]
    assert list(st.path("records").iterdir()) == []
    st.close()


def test_missing_run_directory_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        RunStore(tmp_path / "nope", create=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="results.sqlite"):
        RunStore(tmp_path / "empty", create=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        RunStore(tmp_path / "file")


def test_lookups_by_job_id_read_only_the_asked_rows_and_flagged_or_unverified_records(tmp_path):
    """Issue 27: the result set and a resume look rows up by job id (in chunks, past the chunk size) and select
    the flagged or unverified records, instead of reading every row with its predictions."""
    from vcmbench.run import store as store_mod

    with RunStore(tmp_path / "run") as st:
        n = store_mod._CHUNK + 7  # more than one IN (...) chunk
        for i in range(n):
            extra = {"awaiting_score": True} if i % 100 == 3 else ({"awaiting_score": False} if i % 100 == 4 else {})
            st.put(f"c{i}", "code", f"img{i}", 1.0, 22, {"verified": i % 50 != 1, "extra": extra},
                   None if i % 50 == 1 else {"i": i})
        st.put("r1", "reference", "img0", None, None, {"x": 1}, {"ref": True})
        asked = [f"c{i}" for i in range(0, n, 2)] + ["r1", "absent"]
        got = {jid: (rec, pred) for jid, rec, pred in st.records(asked, predictions=True)}
        assert set(got) == set(asked) - {"absent"}
        assert got["c2"] == ({"verified": True, "extra": {}}, {"i": 2}) and got["r1"][1] == {"ref": True}
        assert all(pred is None for _, _, pred in st.records(asked))  # predictions left unread unless asked
        assert st.code_ids_flagged("awaiting_score") == {f"c{i}" for i in range(n) if i % 100 == 3}
        assert st.unverified_ids() == {f"c{i}" for i in range(n) if i % 50 == 1}
        assert list(st.records([])) == []


def test_a_damaged_row_met_by_a_lookup_names_the_rebuild(tmp_path):
    from vcmbench.run.store import StoreCorrupt

    with RunStore(tmp_path / "run") as st:
        st.put("c1", "code", "img", 1.0, 22, {"verified": True, "extra": {"awaiting_score": True}}, None)
        st._db.execute("UPDATE jobs SET record = '{\"awaiting_score\": tru' WHERE job_id = 'c1'")
        for call in (lambda: list(st.records(["c1"])), lambda: st.code_ids_flagged("awaiting_score"), st.unverified_ids):
            with pytest.raises(StoreCorrupt, match="--rebuild-store"):
                call()


def test_stale_bitstreams_are_found_among_many(tmp_path):
    """Issue 13/27: every kept bitstream is re-checked (size and SHA-256) on resume; the deleted, truncated and
    altered ones, and rows that do not say where their bitstream is, are stale."""
    import hashlib

    from vcmbench.run import store as store_mod

    n = store_mod._CHUNK + 5
    with RunStore(tmp_path / "run") as st:
        for i in range(n):
            data = f"bitstream {i}".encode() * 300
            (st.path("bitstreams") / f"b{i}.266").write_bytes(data)
            rec = {"bitstream": f"bitstreams/b{i}.266", "bits": len(data) * 8, "verified": True,
                   "extra": {"bitstream_sha256": hashlib.sha256(data).hexdigest()}}
            if i == 7:
                rec.pop("bitstream")
            st._db.execute("INSERT INTO jobs VALUES (?, 'code', ?, 1.0, 22, ?, NULL, 0)", (f"c{i}", f"img{i}", json.dumps(rec)))
        st._db.execute("INSERT INTO jobs VALUES ('r1', 'reference', 'img0', NULL, NULL, '{}', NULL, 0)")
        (st.path("bitstreams") / "b3.266").unlink()
        (st.path("bitstreams") / "b5.266").write_bytes(b"short")
        good = (st.path("bitstreams") / f"b{n - 1}.266").read_bytes()
        (st.path("bitstreams") / f"b{n - 1}.266").write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
        assert st.stale_bitstreams() == {"c3", "c5", "c7", f"c{n - 1}"}
