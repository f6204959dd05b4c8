"""Bitstream verification: a verdict per bitstream that it really decodes to the expected pictures.

Checks, in order (each recorded in ``Verdict.checks``):

``structure``  the file parses as a VVC Annex-B stream (NAL headers, SPS, SEI) and, when a
               format is expected, the SPS (cropped size, chroma format, bit depth) matches it;
``decode:X``   each decoder X exits 0 within the timeout and writes a whole number of pictures
               of the SPS format;
``sei_hash``   when the stream carries decoded-picture-hash SEI (MD5, CRC or checksum), it equals the
               hash of the decoded pictures.  The SEI covers the FULL decoded picture before the
               conformance window is applied (H.266 §D; checked on the fixtures), so a cropped
               stream is decoded a second time uncropped (FFmpeg/PyAV ``apply_cropping=0``);
``md5``        the MD5 of the decoded YUV file (output bit depth, 16-bit LE for 10-bit; 4:0:0 as
               luma only) equals the given MD5;
``recon``      the decoded pictures equal the encoder's reconstruction file, when known;
``agreement``  all decoders produced identical files.

The verdict's ``reason`` is ``ok`` or starts with ``not decodable:``, ``format mismatch:`` or
``hash mismatch:``.  Corrupted input never raises: it yields a negative verdict.  A missing
decoder program (a tool problem, not the bitstream's) raises :class:`CodecError`.  A disk fault
(full, read-only, an I/O error) is never a verdict: a decoder that failed or wrote a short file is
believed only once its scratch folder is shown to have room for the pictures
(``core.storage.check_room``); otherwise, and for any ``OSError`` of a storage errno, it raises
:class:`~vcmbench.core.errors.StorageError` (the job fails to run; a resume redoes it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.errors import BitstreamError, UsageError
from ..core.storage import check_room, is_storage_fault, storage_error
from .bitstream import StreamInfo, read_bitstream
from .yuv import YuvFormat, read_yuv


@dataclass
class Verdict:
    path: Path
    ok: bool
    reason: str  # "ok" | "not decodable: ..." | "hash mismatch: ..." | "format mismatch: ..."
    checks: dict[str, dict] = field(default_factory=dict)
    decoded_md5: str | None = None
    bits: int = 0
    decoded: Path | None = None  # the kept decoded YUV, when asked for

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.ok, "reason": self.reason, "bits": self.bits,
                "decoded_md5": self.decoded_md5, "decoded": str(self.decoded) if self.decoded else None,
                "checks": self.checks}


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def plane_hash(plane: np.ndarray, bit_depth: int, hash_type: str) -> str:
    """Decoded-picture-hash of one plane (H.274 §8.7) over its samples as bytes (1 byte each up to
    8-bit, else 2 bytes little-endian): ``md5``; ``crc`` = CRC-16 polynomial 0x1021 started at
    0xFFFF with 16 augmenting zero bits (= ``binascii.crc_hqx`` from 0x1D0F); ``checksum`` = the
    32-bit sum of the sample bytes XOR-ed with a position mask.  All three checked against VVenC's
    SEI (tests/unit/test_verify.py)."""
    two = bit_depth > 8
    data = np.ascontiguousarray(plane.astype("<u2" if two else np.uint8)).tobytes()
    if hash_type == "md5":
        return hashlib.md5(data).hexdigest()
    if hash_type == "crc":
        import binascii

        return f"{binascii.crc_hqx(data, 0x1D0F):04x}"
    if hash_type == "checksum":
        h, w = plane.shape
        y, x = np.mgrid[0:h, 0:w]
        mask = ((x & 0xFF) ^ (y & 0xFF) ^ (x >> 8) ^ (y >> 8)).astype(np.uint64)
        s = plane.astype(np.uint64)
        total = int((((s & 0xFF) ^ mask)).sum())
        if two:
            total += int(((s >> 8) ^ mask).sum())
        return f"{total & 0xFFFFFFFF:08x}"
    raise UsageError(f"picture hash type {hash_type!r} is not implemented")


def _expected_mismatch(info: StreamInfo, expected: YuvFormat) -> str | None:
    sps = info.sps
    assert sps is not None
    diffs = []
    if (sps.width, sps.height) != (expected.width, expected.height):
        diffs.append(f"size {sps.width}x{sps.height} (expected {expected.width}x{expected.height})")
    if sps.chroma_format != expected.chroma:
        diffs.append(f"chroma {sps.chroma_format} (expected {expected.chroma})")
    if sps.bit_depth != expected.bit_depth:
        diffs.append(f"bit depth {sps.bit_depth} (expected {expected.bit_depth})")
    return ", ".join(diffs) or None


def verify_bitstream(path: str | Path, *, expected: YuvFormat | None = None, md5: str | None = None,
                     recon: Path | None = None, decoders: Sequence[str] = ("pyav",), timeout: float = 60.0,
                     keep_decoded: Path | None = None, output_bit_depth: int | None = None,
                     check_sei: bool = True, log_dir: Path | None = None, tmp_dir: Path | None = None,
                     bitstream_format: str = "vvc") -> Verdict:
    """Verify one bitstream (see the module docstring).  ``decoders`` are names (``ffmpeg``,
    ``pyav``, ``vtm``), command templates or :class:`~.codecs.decoders.Decoder` objects.
    ``bitstream_format`` other than ``vvc`` (a template codec's HEVC, JPEG AI...): the VVC structure
    and SEI checks are skipped and ``expected`` (required) is the decoded format.  The decoded file is written at ``output_bit_depth``
    (default: the expected format's bit depth, else 10 as ``DecoderApp -d 10`` does).
    ``log_dir`` keeps each decoder process's command line and output as
    ``<bitstream stem>_<decoder>_decoder.log``.  Decoded pictures go to a scratch folder under
    ``tmp_dir`` (a run passes its own ``RUNDIR/tmp``, emptied when a run starts; default: the system
    temporary folder, where folders left by killed processes are swept on the next call).

    A missing path or one that is not a regular file (a directory, FIFO, device) is bad input and
    raises :class:`DataError`; anything a regular file holds gets a verdict.  A disk fault raises
    :class:`~vcmbench.core.errors.StorageError` (module docstring)."""
    try:
        return _verify(path, expected, md5, recon, decoders, timeout, keep_decoded, output_bit_depth, check_sei,
                       log_dir, tmp_dir, bitstream_format)
    except OSError as exc:
        if is_storage_fault(exc):
            raise storage_error(exc, f"verifying {path}") from None
        raise


def _verify(path: str | Path, expected: YuvFormat | None, md5: str | None, recon: Path | None,
            decoders: Sequence[str], timeout: float, keep_decoded: Path | None, output_bit_depth: int | None,
            check_sei: bool, log_dir: Path | None, tmp_dir: Path | None, bitstream_format: str) -> Verdict:
    from ..core.inputs import MAX_BITSTREAM, check_regular
    from .codecs.decoders import get_decoder

    path = check_regular(path, "Bitstream", MAX_BITSTREAM)
    if not decoders:
        raise UsageError("verify needs at least one decoder (ffmpeg, pyav, vtm or a command template).")
    if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):  # NaN fails too
        raise UsageError(f"timeout {timeout!r} must be a finite number of seconds > 0; a zero or negative timeout "
                         "would brand every stream 'not decodable'.")
    out_depth = output_bit_depth or (expected.bit_depth if expected else 10)
    checks: dict[str, dict] = {}
    bits = path.stat().st_size * 8 if path.is_file() else 0

    def verdict(reason: str, decoded_md5: str | None = None, decoded: Path | None = None) -> Verdict:
        return Verdict(path, reason == "ok", reason, checks, decoded_md5, bits, decoded)

    if bitstream_format != "vvc":
        return _verify_opaque(path, expected, md5, recon, decoders, timeout, keep_decoded, out_depth, log_dir,
                              checks, bits, tmp_dir)
    # 1. structure
    try:
        info = read_bitstream(path)
    except BitstreamError as exc:
        checks["structure"] = {"ok": False, "detail": str(exc)}
        return verdict(f"not decodable: {exc}")
    except OSError as exc:  # reading the file failed: the disk's fault, not the stream's
        if is_storage_fault(exc):
            raise
        checks["structure"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
        return verdict(f"not decodable: unparseable ({type(exc).__name__}: {exc})")
    except Exception as exc:  # noqa: BLE001 - a parser bug on garbage must still be a verdict
        checks["structure"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
        return verdict(f"not decodable: unparseable ({type(exc).__name__}: {exc})")
    sps = info.sps
    assert sps is not None
    checks["structure"] = {"ok": True, "nal_units": info.nal_count, "pictures": info.pictures,
                           "width": sps.width, "height": sps.height, "chroma_format": sps.chroma_format,
                           "bit_depth": sps.bit_depth, "sei_hashes": len(info.picture_hashes)}
    if sps.chroma_format not in (400, 420, 444):
        return verdict(f"format mismatch: chroma format {sps.chroma_format} is not supported")
    if expected is not None:
        mism = _expected_mismatch(info, expected)
        if mism:
            checks["structure"].update(ok=False, detail=mism)
            return verdict(f"format mismatch: SPS says {mism}")
    out_fmt = YuvFormat(sps.width, sps.height, sps.chroma_format, out_depth)
    need = out_fmt.frame_bytes * max(1, info.pictures)  # what each decoder must be able to write

    with _scratch(tmp_dir) as tmp:
        tmpd = Path(tmp)
        outputs: dict[str, Path] = {}
        md5s: dict[str, str] = {}
        # 2. decode with every decoder
        for k, spec in enumerate(decoders):
            dec = get_decoder(spec) if isinstance(spec, str) else spec
            label, out, res, size, failed = _decode_one(dec, k, path, tmpd, out_depth, timeout, log_dir, checks, need)
            if failed:
                return verdict(failed)
            if res.fmt != out_fmt or size == 0 or size % out_fmt.frame_bytes:
                _disk_not_at_fault(tmpd, need, label, path)
                detail = (f"{label} wrote {res.fmt.describe()} / {size} bytes; SPS says {out_fmt.describe()} "
                          f"({out_fmt.frame_bytes} bytes per picture)")
                checks[f"decode:{label}"] = {"ok": False, "detail": detail}
                return verdict(f"not decodable: {detail}")
            frames = size // out_fmt.frame_bytes
            outputs[label] = out
            md5s[label] = _md5_file(out)
            checks[f"decode:{label}"] = {"ok": True, "seconds": round(res.seconds, 4), "frames": frames,
                                         "md5": md5s[label], "command": res.command}
            if info.pictures and frames != info.pictures:
                _disk_not_at_fault(tmpd, need, label, path)
                checks[f"decode:{label}"].update(ok=False, detail=f"{frames} picture(s) decoded, {info.pictures} coded")
                return verdict(f"not decodable: {label} output {frames} picture(s); the stream codes {info.pictures}")
        first = next(iter(outputs))
        decoded_md5 = md5s[first]
        # 3. agreement between decoders
        problem = _agreement(md5s, checks)
        # 4. SEI picture hash
        if not problem and check_sei and info.picture_hashes:
            problem = _check_sei(path, info, outputs[first], out_fmt, decoders, timeout, tmpd, checks)
        # 5. given MD5, 6. encoder reconstruction, then keep the decoded picture
        problem = problem or _given_md5_and_recon(md5, decoded_md5, recon, outputs[first], out_fmt, sps.bit_depth,
                                                  tmpd, checks)
        if problem:
            return verdict(f"hash mismatch: {problem}", decoded_md5)
        return verdict("ok", decoded_md5, _keep(outputs[first], keep_decoded))


def _decode_one(dec: Any, k: int, path: Path, tmpd: Path, out_depth: int, timeout: float, log_dir: Path | None,
                checks: dict[str, dict], need: int) -> tuple[str, Path, Any, int, str | None]:
    """Decode with the ``k``-th decoder into ``tmpd/dec<k>.yuv``: (label, output, result, output size, the
    not-decodable reason or None).  Its process log goes to ``log_dir`` when given.  A failure is the
    stream's only if ``tmpd`` has room for the ``need`` bytes the decoder had to write."""
    label = dec.name if dec.name != "command" else f"command{k}"
    out = tmpd / f"dec{k}.yuv"
    log = Path(log_dir) / f"{path.stem}_{label}_decoder.log" if log_dir is not None else None
    try:
        res = dec.decode(path, out, bit_depth=out_depth, timeout=timeout, log_path=log)
    except BitstreamError as exc:
        _disk_not_at_fault(tmpd, need, label, path)
        checks[f"decode:{label}"] = {"ok": False, "detail": str(exc)}
        return label, out, None, 0, f"not decodable: {label}: {exc}"
    return label, out, res, (out.stat().st_size if out.is_file() else 0), None


def _disk_not_at_fault(tmpd: Path, need: int, label: str, path: Path) -> None:
    """Before a failed decode becomes a verdict: :class:`StorageError` when the scratch folder cannot take the
    ``need`` bytes the decoder had to write (full, read-only, failing disk)."""
    check_room(tmpd, need + (1 << 16), f"decoding {path.name} with {label} (the decoder's output could not be "
                                      f"written to {tmpd})")


def _agreement(md5s: dict[str, str], checks: dict[str, dict]) -> str | None:
    """Every decoder must give the same pictures (the reason when they do not)."""
    if len(set(md5s.values())) > 1:
        checks["agreement"] = {"ok": False, "md5": md5s}
        return "decoders disagree (" + ", ".join(f"{d} {m}" for d, m in md5s.items()) + ")"
    if len(md5s) > 1:
        checks["agreement"] = {"ok": True, "decoders": list(md5s)}
    return None


def _given_md5_and_recon(md5: str | None, decoded_md5: str, recon: Path | None, decoded: Path, out_fmt: YuvFormat,
                         recon_depth: int, tmpd: Path, checks: dict[str, dict]) -> str | None:
    """The decoded pictures against the given MD5 and the encoder's reconstruction (the reason when not)."""
    if md5:
        ok = md5.strip().lower() == decoded_md5
        checks["md5"] = {"ok": ok, "expected": md5.strip().lower(), "actual": decoded_md5}
        if not ok:
            return f"decoded MD5 {decoded_md5} != expected {md5.strip().lower()}"
    if recon is not None:
        return _check_recon(Path(recon), decoded, out_fmt, recon_depth, tmpd, checks)
    return None


def _keep(decoded: Path, keep_decoded: Path | None) -> Path | None:
    if keep_decoded is None:
        return None
    kept = Path(keep_decoded)
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(decoded, kept)
    return kept


_TMP_PREFIX = "vcmbench-verify-"


def _scratch(tmp_dir: Path | None):
    """A scratch folder for decoded pictures: under ``tmp_dir`` (a run's own ``RUNDIR/tmp``), else in the
    system temporary folder, where folders left by killed processes are swept first."""
    if tmp_dir is None:
        _sweep_stale(Path(tempfile.gettempdir()))
    return tempfile.TemporaryDirectory(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=tmp_dir)


def _sweep_stale(root: Path) -> None:
    """Remove ``vcmbench-verify-<pid>-*`` folders of processes that no longer run (a killed verify)."""
    try:
        entries = list(root.glob(f"{_TMP_PREFIX}*"))
    except OSError:
        return
    uid = os.getuid()
    for d in entries:
        pid_text = d.name[len(_TMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            if d.is_symlink() or not d.is_dir() or d.stat().st_uid != uid:
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def _md5_file(p: Path) -> str:
    from ..core.hashing import md5_file

    return md5_file(p)


def _check_sei(path: Path, info: StreamInfo, decoded: Path, out_fmt: YuvFormat, decoders: Sequence[str],
               timeout: float, tmpd: Path, checks: dict[str, dict]) -> str | None:
    """Compare SEI picture hashes with the decoded pictures; returns a problem or None."""
    from .codecs.decoders import get_decoder

    sps = info.sps
    assert sps is not None
    cropped = sps.conf_win != (0, 0, 0, 0)
    full_fmt = YuvFormat(sps.coded_width, sps.coded_height, sps.chroma_format, sps.bit_depth)
    if cropped or out_fmt.bit_depth != sps.bit_depth:
        # need the full coded picture at the coded bit depth: an uncropped FFmpeg/PyAV decode
        name = next((d for d in decoders if isinstance(d, str) and d in ("ffmpeg", "pyav")), "ffmpeg")
        src = tmpd / "uncropped.yuv"
        try:
            get_decoder(name).decode(path, src, bit_depth=sps.bit_depth, timeout=timeout, crop=not cropped)
        except BitstreamError as exc:
            _disk_not_at_fault(tmpd, full_fmt.frame_bytes * max(1, info.pictures), name, path)
            checks["sei_hash"] = {"ok": False, "detail": f"uncropped decode failed: {exc}"}
            return f"SEI picture hash not checkable: uncropped decode failed ({exc})"
        fmt = full_fmt if cropped else YuvFormat(sps.width, sps.height, sps.chroma_format, sps.bit_depth)
    else:
        src, fmt = decoded, out_fmt
    n = src.stat().st_size // fmt.frame_bytes
    results = []
    for k, ph in enumerate(info.picture_hashes):
        if k >= n:
            break
        try:
            planes = read_yuv(src, fmt, k)
        except Exception as exc:  # noqa: BLE001
            return f"decoded picture {k} unreadable ({exc})"
        actual = [plane_hash(p, sps.bit_depth, ph.hash_type) for p in planes[: len(ph.values)]]
        ok = actual == ph.values
        results.append({"picture": k, "type": ph.hash_type, "ok": ok, "sei": ph.values, "decoded": actual})
        if not ok:
            checks["sei_hash"] = {"ok": False, "pictures": results}
            return f"picture {k} {ph.hash_type} {actual} != SEI {ph.values}"
    checks["sei_hash"] = {"ok": True, "pictures": results, "full_picture": cropped}
    return None


def _check_recon(recon: Path, decoded: Path, out_fmt: YuvFormat, coded_depth: int, tmpd: Path,
                 checks: dict[str, dict]) -> str | None:
    if not recon.is_file():
        checks["recon"] = {"ok": False, "detail": f"{recon} not found"}
        return f"encoder reconstruction {recon} not found"
    rsize, dsize = recon.stat().st_size, decoded.stat().st_size
    if rsize != dsize:
        checks["recon"] = {"ok": False, "detail": f"recon {rsize} bytes vs decoded {dsize}"}
        return f"encoder reconstruction has {rsize} bytes, the decoded file {dsize}"
    rm, dm = _md5_file(recon), _md5_file(decoded)
    checks["recon"] = {"ok": rm == dm, "recon_md5": rm, "decoded_md5": dm}
    if rm != dm:
        return f"decoded pictures differ from the encoder reconstruction ({dm} vs {rm})"
    return None


def _verify_opaque(path: Path, expected: YuvFormat | None, md5: str | None, recon: Path | None, decoders: Sequence,
                   timeout: float, keep_decoded: Path | None, out_depth: int, log_dir: Path | None,
                   checks: dict[str, dict], bits: int, tmp_dir: Path | None = None) -> Verdict:
    """A stream vcmbench cannot parse (not VVC): every decoder must write whole pictures of ``expected``,
    agree with the others, and equal the given MD5 / the encoder's reconstruction."""
    from .codecs.decoders import CommandDecoder, get_decoder

    if expected is None:
        raise UsageError("Verifying a non-VVC bitstream needs the expected picture format (width, height, chroma, "
                         "bit depth).")
    out_fmt = YuvFormat(expected.width, expected.height, expected.chroma, out_depth)

    def verdict(reason: str, decoded_md5: str | None = None, decoded: Path | None = None) -> Verdict:
        return Verdict(path, reason == "ok", reason, checks, decoded_md5, bits, decoded)

    if not path.is_file() or bits == 0:
        checks["structure"] = {"ok": False, "detail": "missing or empty file"}
        return verdict("not decodable: the bitstream file is missing or empty")
    checks["structure"] = {"ok": True, "detail": "not VVC: structure not parsed"}
    with _scratch(tmp_dir) as tmp:
        tmpd, outputs, md5s = Path(tmp), {}, {}
        for k, spec in enumerate(decoders):
            if isinstance(spec, str):
                dec = CommandDecoder(spec, fmt=out_fmt) if "{input}" in spec else get_decoder(spec)
            else:
                dec = spec
            label, out, res, size, failed = _decode_one(dec, k, path, tmpd, out_depth, timeout, log_dir, checks,
                                                        out_fmt.frame_bytes)
            if failed:
                return verdict(failed)
            if size != out_fmt.frame_bytes:
                _disk_not_at_fault(tmpd, out_fmt.frame_bytes, label, path)
                checks[f"decode:{label}"] = {"ok": False, "detail": f"{size} bytes, expected {out_fmt.frame_bytes}"}
                return verdict(f"not decodable: {label} wrote {size} bytes; one {out_fmt.describe()} picture has "
                               f"{out_fmt.frame_bytes}")
            outputs[label], md5s[label] = out, _md5_file(out)
            checks[f"decode:{label}"] = {"ok": True, "seconds": round(res.seconds, 4), "frames": 1,
                                         "md5": md5s[label], "command": res.command}
        if not outputs:
            raise UsageError("verify needs at least one decoder for a non-VVC bitstream (the codec's decode template).")
        first = next(iter(outputs))
        decoded_md5 = md5s[first]
        problem = _agreement(md5s, checks) or _given_md5_and_recon(md5, decoded_md5, recon, outputs[first], out_fmt,
                                                                   out_depth, tmpd, checks)
        if problem:
            return verdict(f"hash mismatch: {problem}", decoded_md5)
        return verdict("ok", decoded_md5, _keep(outputs[first], keep_decoded))


def _verify_item(item: tuple[int, dict[str, Any]]) -> tuple[int, Verdict, float]:
    """One ``verify_bitstream`` call and its seconds (picklable: runs in an executor's worker)."""
    import time

    k, kwargs = item
    kwargs = dict(kwargs)
    t0 = time.perf_counter()
    v = verify_bitstream(kwargs.pop("path"), **kwargs)
    return k, v, time.perf_counter() - t0


def verify_many(calls: Sequence[dict[str, Any]], executor: Any = None, on_done: Any = None,
                with_seconds: bool = False) -> list[Any]:
    """``verify_bitstream(**call)`` for every call (each a dict with ``path`` and the keyword arguments),
    on ``executor`` (the run executor interface: ``run(fn, items)`` yields ``(item, result, error)``)
    when given; verdicts (``with_seconds``: ``(verdict, seconds)``) in the order of ``calls``.
    ``on_done(done, total, path)`` after each one.
    A call that raised (a tool failure, not a verdict) raises ``BitstreamError`` naming the file."""
    items = list(enumerate(calls))
    out: list[Verdict | None] = [None] * len(items)
    if executor is None:
        results = ((it, _verify_item(it), None) for it in items)
    else:
        results = executor.run(_verify_item, items)
    for n, (item, res, err) in enumerate(results, 1):
        if err is not None:
            raise BitstreamError(f"verifying {item[1]['path']} failed: {err.splitlines()[0]}")
        out[res[0]] = (res[1], res[2]) if with_seconds else res[1]
        if on_done is not None:
            on_done(n, len(items), item[1]["path"])
    return out  # type: ignore[return-value]
