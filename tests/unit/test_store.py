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
    st.lock()
    assert list(st.path("tmp").iterdir()) == []
    assert [p.name for p in st.path("bitstreams").iterdir()] == ["c2.266"]
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
