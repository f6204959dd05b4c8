"""Faults are not verdicts (issue 26): a disk that is full, read-only or failing while a picture is decoded,
verified or stored ends the job as failed-to-run (a ``StorageError``, redone on resume), never as a stored
"not decodable" verdict.  The full disk is real: a small tmpfs filled to the last byte (mounting needs
root; the tests skip with the reason otherwise)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from vcmbench.coding.verify import verify_bitstream
from vcmbench.coding.yuv import YuvFormat
from vcmbench.core.errors import StorageError

FIXTURE = "texture_256x192_420_qp37.266"


def _mount(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {(r.stderr or r.stdout).strip()}")


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size)``: a fresh tmpfs of ``size`` (e.g. "2m"), unmounted after the test."""
    mounted: list[Path] = []

    def make(size: str = "2m") -> Path:
        d = tmp_path / f"disk{len(mounted)}"
        _mount(d, size)
        mounted.append(d)
        return d

    yield make
    for d in mounted:
        subprocess.run(["umount", "-l", str(d)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; the ballast file to delete to give the space back."""
    ballast = disk / f"ballast-{uuid.uuid4().hex}"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\1" * size):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return ballast


def _case(vtm_fixtures):
    cases = json.loads((vtm_fixtures / "manifest.json").read_text())["cases"]
    c = next(c for c in cases if c["bitstream"] == FIXTURE)
    return c, YuvFormat(c["width"], c["height"], c["chroma_format"], c["bit_depth"])


@pytest.mark.parametrize("decoder", ["pyav", "ffmpeg"])
def test_a_full_disk_while_decoding_is_a_storage_error_then_the_verdict_once_space_is_back(decoder, vtm_fixtures,
                                                                                            small_disk):
    c, fmt = _case(vtm_fixtures)
    disk = small_disk("2m")
    ballast = fill(disk)
    with pytest.raises(StorageError, match="No space left on device.*re-run the same command"):
        verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, md5=c["decoded_md5"], decoders=(decoder,),
                         tmp_dir=disk)
    ballast.unlink()
    v = verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, md5=c["decoded_md5"], decoders=(decoder,),
                         tmp_dir=disk)
    assert v.ok and v.reason == "ok", v.reason


def test_a_decoder_that_fails_on_a_full_disk_is_not_believed(vtm_fixtures, small_disk, tmp_path):
    """A command decoder that leaves a short file (as VTM's DecoderApp does when its writes fail): on a full
    disk a StorageError; on a disk with room the same decoder's failure is the verdict (the control)."""
    _, fmt = _case(vtm_fixtures)
    short = ["cp {input} {output}"]  # writes the bitstream's bytes: never a whole picture
    disk = small_disk("2m")
    ballast = fill(disk)
    with pytest.raises(StorageError):
        verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, decoders=short, tmp_dir=disk)
    ballast.unlink()
    v = verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, decoders=short, tmp_dir=disk)
    assert not v.ok and v.reason.startswith("not decodable:"), v.reason
    failing = ["false {input} {output}"]  # exits 1 without writing
    ballast = fill(disk)
    with pytest.raises(StorageError):
        verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, decoders=failing, tmp_dir=disk)
    ballast.unlink()
    v = verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, decoders=failing, tmp_dir=disk)
    assert v.reason.startswith("not decodable: command0: false exit status 1"), v.reason


@pytest.mark.parametrize("code", [errno.EIO, errno.EROFS, errno.ENOSPC])
def test_io_errors_reading_or_writing_are_storage_errors(code, vtm_fixtures, tmp_path, monkeypatch):
    import vcmbench.coding.verify as verify_mod

    _, fmt = _case(vtm_fixtures)

    def broken(path):
        raise OSError(code, os.strerror(code), str(path))

    with monkeypatch.context() as m:  # reading the bitstream fails: not "unparseable"
        m.setattr(verify_mod, "read_bitstream", broken)
        with pytest.raises(StorageError, match=os.strerror(code)):
            verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, decoders=("ffmpeg",), tmp_dir=tmp_path)

    class WriteFails:  # a decoder whose output write fails
        name = "broken"

        def decode(self, bitstream, out_yuv, **kw):
            raise OSError(code, os.strerror(code), str(out_yuv))

    with pytest.raises(StorageError, match=os.strerror(code)):
        verify_bitstream(vtm_fixtures / FIXTURE, expected=fmt, decoders=[WriteFails()], tmp_dir=tmp_path)


def test_the_pyav_worker_reports_a_write_error_as_an_os_error_not_a_bitstream_error(vtm_fixtures, small_disk):
    from vcmbench.coding.codecs.decoders import _answer_error
    from vcmbench.coding.codecs.pyav_worker import decode_to_file

    disk = small_disk("2m")
    fill(disk)
    ans = decode_to_file(str(vtm_fixtures / FIXTURE), str(disk / "out.yuv"), 10, True)
    assert ans["ok"] is False and ans["errno"] == errno.ENOSPC
    err = _answer_error(ans)
    assert isinstance(err, OSError) and err.errno == errno.ENOSPC
    assert not isinstance(_answer_error({"ok": False, "error": "InvalidDataError: bad"}), OSError)


def test_storing_on_a_full_disk_records_nothing_and_says_so(small_disk):
    from vcmbench.run.store import RunStore

    disk = small_disk("2m")
    with RunStore(disk / "run") as st:
        st.put("done", "reference", "img0", None, None, {"job_id": "done"}, {"labels": []})
        ballast = fill(disk)
        with pytest.raises(StorageError, match="storing job next"):
            st.put("next", "reference", "img1", None, None, {"job_id": "next", "pad": "x" * 100000},
                   {"labels": ["x" * 100000]})
        assert st.done_ids() == {"done"}  # the job is not finished: a resume redoes it
        ballast.unlink()
        st.put("next", "reference", "img1", None, None, {"job_id": "next"}, {"labels": []})
        assert st.done_ids() == {"done", "next"}


def _comparable(rs):
    return [(p.scale, p.qp, p.bits, p.pixels, p.bpp, p.accuracy, p.images, p.failed) for p in rs.points]


@pytest.mark.integration
def test_a_run_whose_disk_fills_while_decoding_resumes_to_the_undisturbed_result_set(coco_tiny, tmp_path,
                                                                                      small_disk, monkeypatch):
    """Issue 26 "done when": the disk (a 64 MB tmpfs) fills while the third picture is decoded.  No job is
    stored as "not decodable"; the run ends with failed jobs (or a StorageError once storing fails too); with the
    space back the same command resumes to exactly the result set, rows and bitstreams of an undisturbed run."""
    from vcmbench.coding.codecs import decoders as dec_mod
    from vcmbench.conditions import load_condition
    from vcmbench.run.executor import SerialExecutor
    from vcmbench.run.pipeline import run_condition
    from vcmbench.run.store import RunStore

    cond = load_condition("coco-tiny-cc-ssd").with_overrides(preset="faster")
    env = {"test": "disk-full"}

    def run(out):
        return run_condition(cond, coco_tiny, out, qps=[37, 47], limit=2, executor=SerialExecutor(), env=env)

    straight = run(tmp_path / "straight")
    assert not straight.errors and straight.result_set is not None

    disk = small_disk("64m")
    out = disk / "run"
    calls, ballast = [0], []
    for cls in (dec_mod.PyAVDecoder, dec_mod.FFmpegDecoder):
        original = cls.decode

        def decode(self, *a, _original=original, **kw):
            calls[0] += 1
            if calls[0] == 3:  # the disk fills while the third picture is decoded
                ballast.append(fill(disk))
            return _original(self, *a, **kw)

        monkeypatch.setattr(cls, "decode", decode)
    try:
        hit = run(out)
        assert hit.errors and all("StorageError" in e["error"] or "No space" in e["error"] for e in hit.errors)
    except StorageError as exc:  # storing a finished job met the full disk too
        assert "No space left on device" in str(exc)
    assert ballast, "the fault was never injected"
    with RunStore(out, create=False) as st:
        stored = list(st.rows("code"))
        n_stored = len(st.done_ids())
    assert all(rec["verified"] for _, rec, _ in stored), [rec["verdict"] for _, rec, _ in stored]
    with RunStore(tmp_path / "straight", create=False) as st:
        want = {j: (r, p) for j, r, p in st.rows()}
    assert n_stored < len(want)  # the jobs that met the full disk are not recorded

    monkeypatch.undo()
    ballast[0].unlink()  # space is back
    resumed = run(out)
    assert not resumed.errors and resumed.skipped == n_stored
    assert _comparable(resumed.result_set) == _comparable(straight.result_set)
    assert resumed.result_set.signature == straight.result_set.signature
    with RunStore(out, create=False) as st:
        rows = {j: (r, p) for j, r, p in st.rows()}
    assert sorted(rows) == sorted(want)
    for j, (rec, pred) in want.items():
        for key in ("bits", "verified", "verdict"):
            assert rows[j][0].get(key) == rec.get(key), (j, key)
        assert rows[j][1] == pred, j
    bs = {p.name: p.read_bytes() for p in (out / "bitstreams").iterdir()}
    assert bs == {p.name: p.read_bytes() for p in (tmp_path / "straight" / "bitstreams").iterdir()}


def _remount_ro(disk: Path) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only here: {r.stderr.strip()}")


RUN = ["run", "coco-tiny-cc-ssd", "--qps", "47", "--limit", "1", "--jobs", "1", "--quiet"]


def test_a_read_only_output_folder_is_exit_2_and_leaves_nothing(coco_tiny, small_disk):
    from tests.unit._hostile import invoke
    from vcmbench.run.store import RunStore

    disk = small_disk("4m")
    RunStore(disk / "old").close()  # a run directory, then the disk goes read-only
    _remount_ro(disk)
    r = invoke([*RUN, "--data", coco_tiny, "--out", disk / "new" / "run"])
    assert r.exit_code == 2 and "Read-only file system" in r.output and "choose a writable --out" in r.output, r.output
    assert not (disk / "new").exists()
    r = invoke([*RUN, "--data", coco_tiny, "--out", disk / "old"])  # resuming on read-only media: not "damaged"
    assert r.exit_code == 2 and "Cannot write in" in r.output and "damaged" not in r.output, r.output


def test_a_full_output_folder_is_a_message_and_leaves_nothing(coco_tiny, small_disk):
    from tests.unit._hostile import invoke

    disk = small_disk("2m")
    fill(disk)
    r = invoke([*RUN, "--data", coco_tiny, "--out", disk / "new" / "run"], seconds=60)
    assert r.exit_code == 1 and "No space left on device" in r.output and "Traceback" not in r.output, r.output
    assert sorted(p.name for p in disk.iterdir() if not p.name.startswith("ballast")) == []


def test_results_of_a_run_on_read_only_media_is_checked_and_shown(small_disk):
    """The store check of `vcmbench results` reads a read-only run directory (not "damaged"); a damaged
    store there is still refused."""
    from tests.unit._hostile import invoke
    from tests.unit._resultsets import make_anchor
    from vcmbench.run.store import DB_FILE, RunStore

    disk = small_disk("4m")
    for name in ("good", "bad"):
        with RunStore(disk / name) as st:
            st.put("job0", "reference", "img0", None, None, {"job_id": "job0"}, {"labels": []})
        make_anchor().save(disk / name / "resultset.json")
    db = disk / "bad" / DB_FILE
    db.write_bytes(db.read_bytes()[:100])
    _remount_ro(disk)
    r = invoke(["results", disk / "good"])
    assert r.exit_code == 0 and "signature:" in r.output, r.output
    r = invoke(["results", disk / "bad"])
    assert r.exit_code == 2 and "damaged" in r.output, r.output


@pytest.mark.parametrize("decoder", ["pyav", "ffmpeg"])
def test_a_full_disk_while_verifying_a_sequence_is_a_storage_error_then_the_verdict(decoder, small_disk, tmp_path):
    """A whole sequence (20 frames, random access) decoded onto a full scratch disk: a StorageError, not a
    'not decodable' verdict (nor a bisection for the bad picture); verified once space is back."""
    from tests.unit.test_verify_sequence import FMT, _encode, _source
    from vcmbench.coding.verify_sequence import verify_sequence

    bs = tmp_path / "ra.266"
    _encode(bs, _source(20), 20)
    disk = small_disk("2m")
    ballast = fill(disk)
    kw = dict(expected=FMT, frames=20, recon=None, decoders=(decoder,), timeout=60, tmp_dir=disk)
    with pytest.raises(StorageError, match="No space left on device.*re-run the same command"):
        verify_sequence(bs, **kw)
    ballast.unlink()
    v = verify_sequence(bs, **kw)
    assert v.ok and v.checks["sei_hash"]["checked"] == 20, v.reason
