"""Verification of a whole coded sequence, picture by picture.

:func:`verify_sequence` decodes the joined bitstream of a sequence with every decoder and gives a
:class:`SequenceVerdict`.  Checks, in order (each recorded in ``SequenceVerdict.checks``):

``structure``  the file parses as a VVC Annex-B stream whose SPS matches the expected format, every
               picture's order count can be derived, and the stream outputs exactly ``frames`` pictures;
``decode:X``   each decoder X exits 0 within the timeout and writes exactly ``frames`` frames of the
               expected format (more or fewer: not verified, naming both counts);
``agreement``  every decoder gives the same frames (per-frame MD5; the first differing frame and the
               decoders are named);
``sei_hash``   each picture's decoded-picture-hash SEI (MD5, CRC or checksum), where the stream carries one,
               equals the hash of the frame decoded at its output position;
``recon``      each decoded frame equals the same frame of the encoder's reconstruction, when given.

One bad picture and the sequence is not verified; the reason names the frame index (output order, from
0) and the check.  ``pictures`` lists every frame: ``{frame, md5, sei, recon, poc, decode_order, type,
coded_bytes}`` (the last four for VVC; ``coded_bytes``: its picture header and slices, start codes included)
with ``sei`` ``ok | mismatch | absent`` and ``recon`` ``ok | mismatch | n/a``.  Reasons start as in
:mod:`.verify`: ``ok``, ``not decodable:``, ``format mismatch:``, ``hash mismatch:``.

Mapping SEI hashes to frames.  Decoded-picture-hash SEI messages come in decoding order (each a suffix
SEI after its picture's slices), decoders write frames in output order, and random access reorders
(VVenC's RA GOP starts with an IDR picture of POC 15 followed by 15 leading pictures).  The mapping is
derived from the stream itself, not from one decoder's behaviour: :func:`.bitstream.picture_units`
reads every picture header's ``ph_pic_order_cnt_lsb`` (and the MSB cycle when signalled) and derives
the picture order count as H.266 §8.3.1 does; output order is then CLVS by CLVS (an IDR, or a CRA after
an end-of-sequence NAL unit, outputs everything before it), POC ascending within each; RASL pictures of a
CRA that starts a CLVS are not output.  This is what a conforming decoder's output process gives for
the streams VTM and VVenC write (no ``ph_pic_output_flag = 0``, no ``no_output_of_prior_pics``); it was
checked against VVenC's own per-POC MD5 log on a 300-frame random-access stream whose POC LSB wraps.
Using a decoder's log instead (VTM DecoderApp prints POCs) would tie the check to one decoder, and a
mapping error could only make a good stream fail here (the hashes would not match), never make a bad
one pass.

The SEI covers the full decoded picture at the coded bit depth; a cropped stream (or a decode at another
output bit depth) is decoded once more uncropped at the coded depth by FFmpeg or PyAV for the check, as
:mod:`.verify` does for one picture.

Memory: frames are read one at a time from the decoders' output files (a class-A sequence of 600
frames of 2560x1600 10-bit is ~7 GB); only per-frame MD5s are held.  Disk faults raise
:class:`~vcmbench.core.errors.StorageError` as in :mod:`.verify`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..core.errors import BitstreamError, UsageError
from ..core.storage import is_storage_fault, storage_error
from .bitstream import PictureUnit, output_order, picture_units, read_bitstream
from .verify import _decode_one, _disk_not_at_fault, _expected_mismatch, _scratch, plane_hash
from .yuv import YuvFormat, planes_from_bytes


@dataclass
class SequenceVerdict:
    ok: bool
    reason: str  # "ok" | "not decodable: ..." | "hash mismatch: ..." | "format mismatch: ..."
    checks: dict[str, dict] = field(default_factory=dict)
    pictures: list[dict] = field(default_factory=list)  # one entry per frame, output order
    decoded: Path | None = None  # the kept decoded YUV (all frames), when asked for and verified
    decoded_md5s: list[str] = field(default_factory=list)  # MD5 of each decoded frame (output bit depth)
    path: Path | None = None
    bits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None, "ok": self.ok, "reason": self.reason,
                "bits": self.bits, "decoded": str(self.decoded) if self.decoded else None,
                "decoded_md5s": list(self.decoded_md5s), "pictures": list(self.pictures), "checks": self.checks}


def verify_sequence(path: Path, *, expected: YuvFormat, frames: int, recon: Path | None,
                    decoders: Sequence, timeout: float, keep_decoded: Path | None = None,
                    tmp_dir: Path | None = None, bitstream_format: str = "vvc",
                    log_dir: Path | None = None) -> SequenceVerdict:
    """Verify the coded sequence ``path`` (see the module docstring).  ``expected`` is ONE frame's format
    at the output (internal) bit depth; ``frames`` the number of frames it must decode to; ``recon`` the
    encoder's reconstruction (all frames, output order, at ``expected``'s bit depth) or None; ``decoders``
    names (``ffmpeg``, ``pyav``, ``vtm``), command templates or :class:`~.codecs.decoders.Decoder` objects;
    ``timeout`` seconds per decoder run.  ``keep_decoded`` receives the decoded frames of a verified
    sequence; decoded files go to a scratch folder under ``tmp_dir``; ``log_dir`` keeps each decoder's
    log.  ``bitstream_format`` other than ``vvc`` (a template codec's): no structure or SEI check.

    A missing bitstream, or one that is not a regular file, raises :class:`DataError`; a disk fault
    :class:`StorageError`; whatever the file holds gets a verdict."""
    if not decoders:
        raise UsageError("verify needs at least one decoder (ffmpeg, pyav, vtm or a command template).")
    if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
        raise UsageError(f"timeout {timeout!r} must be a finite number of seconds > 0.")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise UsageError(f"frames {frames!r} must be a positive number of frames.")
    try:
        return _verify_sequence(path, expected, frames, recon, decoders, timeout, keep_decoded, tmp_dir,
                                bitstream_format, log_dir)
    except OSError as exc:
        if is_storage_fault(exc):
            raise storage_error(exc, f"verifying {path}") from None
        raise


def _verify_sequence(path: Path, expected: YuvFormat, frames: int, recon: Path | None, decoders: Sequence,
                     timeout: float, keep_decoded: Path | None, tmp_dir: Path | None, bitstream_format: str,
                     log_dir: Path | None) -> SequenceVerdict:
    from ..core.inputs import MAX_BITSTREAM, check_regular

    path = check_regular(path, "Bitstream", MAX_BITSTREAM)
    bits = path.stat().st_size * 8
    checks: dict[str, dict] = {}

    def verdict(reason: str, pictures: list[dict] | None = None, md5s: list[str] | None = None,
                decoded: Path | None = None) -> SequenceVerdict:
        return SequenceVerdict(reason == "ok", reason, checks, pictures or [], decoded, md5s or [], path, bits)

    out_fmt = expected
    order: list[PictureUnit] | None = None
    coded_depth, cropped, full_fmt = expected.bit_depth, False, expected
    if bitstream_format == "vvc":
        try:
            info = read_bitstream(path)
            units = picture_units(info)
            order = output_order(units)
        except BitstreamError as exc:
            checks["structure"] = {"ok": False, "detail": str(exc)}
            return verdict(f"not decodable: {exc}")
        except Exception as exc:  # noqa: BLE001 - a parser bug on garbage must still be a verdict
            if isinstance(exc, OSError) and is_storage_fault(exc):
                raise
            checks["structure"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
            return verdict(f"not decodable: unparseable ({type(exc).__name__}: {exc})")
        sps = info.sps
        assert sps is not None
        checks["structure"] = {"ok": True, "nal_units": info.nal_count, "pictures": len(units),
                               "output_pictures": len(order), "clvs": len({u.clvs for u in units}),
                               "width": sps.width, "height": sps.height, "chroma_format": sps.chroma_format,
                               "bit_depth": sps.bit_depth, "sei_hashes": sum(u.hash is not None for u in units)}
        mism = _expected_mismatch(info, expected)
        if mism:
            checks["structure"].update(ok=False, detail=mism)
            return verdict(f"format mismatch: SPS says {mism}")
        if len(order) != frames:
            detail = f"the stream outputs {len(order)} picture(s) ({len(units)} coded); expected {frames} frames"
            checks["structure"].update(ok=False, detail=detail)
            return verdict(f"not decodable: {detail}")
        coded_depth = sps.bit_depth
        cropped = sps.conf_win != (0, 0, 0, 0)
        full_fmt = YuvFormat(sps.coded_width, sps.coded_height, sps.chroma_format, sps.bit_depth)
    elif bits == 0:
        checks["structure"] = {"ok": False, "detail": "empty file"}
        return verdict("not decodable: the bitstream file is empty")
    else:
        checks["structure"] = {"ok": True, "detail": "not VVC: structure not parsed"}
    need = out_fmt.frame_bytes * frames

    with _scratch(tmp_dir) as tmp:
        tmpd = Path(tmp)
        outputs: dict[str, Path] = {}
        md5s: dict[str, list[str]] = {}
        for k, spec in enumerate(decoders):
            dec = _decoder(spec, out_fmt if bitstream_format != "vvc" else None)
            label, out, res, size, failed = _decode_one(dec, k, path, tmpd, out_fmt.bit_depth, timeout, log_dir,
                                                        checks, need)
            if failed:
                if order is not None and "timed out" not in failed:  # a hang is not localised (log2(n) hangs)
                    failed = _locate_failure(dec, label, path, units, order, tmpd, out_fmt.bit_depth, timeout,
                                             checks) or failed
                return verdict(failed)
            n, rest = divmod(size, out_fmt.frame_bytes)
            if res.fmt != out_fmt or rest or n != frames:
                _disk_not_at_fault(tmpd, need, label, path)
                if res.fmt != out_fmt or rest:
                    detail = (f"{label} wrote {res.fmt.describe()} / {size} bytes; expected {frames} frame(s) of "
                              f"{out_fmt.describe()} ({out_fmt.frame_bytes} bytes each)")
                else:
                    detail = f"{label} output {n} frame(s); expected {frames}"
                checks[f"decode:{label}"] = {"ok": False, "detail": detail}
                return verdict(f"not decodable: {detail}")
            outputs[label] = out
            md5s[label] = _frame_md5s(out, out_fmt, frames)
            checks[f"decode:{label}"] = {"ok": True, "seconds": round(res.seconds, 4), "frames": n,
                                         "md5": _md5_of(md5s[label]), "command": res.command}
        first = next(iter(outputs))
        frame_md5 = md5s[first]
        problem = _agreement(md5s, checks)
        if problem:
            return verdict(f"hash mismatch: {problem}", md5s=frame_md5)
        pictures = [{"frame": k, "md5": frame_md5[k], "sei": "absent", "recon": "n/a"} for k in range(frames)]
        if order is not None:
            for k, u in enumerate(order):
                pictures[k].update(poc=u.poc, decode_order=u.index, type=u.type_name, coded_bytes=u.size)
        bad: list[str] = []
        if order is not None and any(u.hash is not None for u in order):
            src, sfmt = outputs[first], out_fmt
            if cropped or out_fmt.bit_depth != coded_depth:
                sfmt = full_fmt if cropped else YuvFormat(out_fmt.width, out_fmt.height, out_fmt.chroma, coded_depth)
                src, failed = _uncropped(path, decoders, sfmt, frames, cropped, timeout, tmpd, checks)
                if failed:
                    return verdict(f"hash mismatch: {failed}", pictures, frame_md5)
            bad += _check_sei(order, src, sfmt, coded_depth, pictures, checks, cropped)
        if recon is not None:
            problem = _check_recon(Path(recon), outputs[first], out_fmt, frames, frame_md5, pictures, checks)
            if problem:
                return verdict(f"hash mismatch: {problem}", pictures, frame_md5)
            bad += [f"frame {p['frame']}: decoded frame differs from the encoder reconstruction"
                    for p in pictures if p["recon"] == "mismatch"]
        if bad:
            bad.sort(key=lambda s: int(s.split(":", 1)[0].split()[1]))
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            return verdict(f"hash mismatch: {bad[0]}{more}", pictures, frame_md5)
        return verdict("ok", pictures, frame_md5, _keep_move(outputs[first], keep_decoded))


def _locate_failure(dec: Any, label: str, path: Path, units: list[PictureUnit], order: list[PictureUnit],
                    tmpd: Path, out_depth: int, timeout: float, checks: dict[str, dict]) -> str | None:
    """The first picture (decoding order) that ``dec`` cannot decode, found by decoding the stream cut after
    picture k (a valid stream: references precede in decoding order) for a bisection of k: the reason naming
    its frame, or None when every cut decodes (the failure is not one picture's)."""
    data = path.read_bytes()
    ends = [u.end for u in units[:-1]] + [len(data)]
    cut, out = tmpd / f"cut_{label}.266", tmpd / f"cut_{label}.yuv"

    def fails(k: int) -> str | None:
        cut.write_bytes(data[: ends[k]])
        try:
            dec.decode(cut, out, bit_depth=out_depth, timeout=timeout)
        except BitstreamError as exc:
            return str(exc)
        finally:
            out.unlink(missing_ok=True)
        return None

    lo, hi, why = 0, len(units) - 1, None
    while lo < hi:
        mid = (lo + hi) // 2
        msg = fails(mid)
        if msg is not None:
            hi, why = mid, msg
        else:
            lo = mid + 1
    why = why if why is not None and hi == lo else fails(lo)
    cut.unlink(missing_ok=True)
    if why is None:
        return None
    u = units[lo]
    frame = next((k for k, o in enumerate(order) if o.index == u.index), None)
    where = f"frame {frame}" if frame is not None else "a picture that is not output"
    checks[f"decode:{label}"].update(first_bad_picture={"frame": frame, "poc": u.poc, "decode_order": u.index})
    return (f"not decodable: {where} (POC {u.poc}, picture {u.index} in decoding order) does not decode with "
            f"{label}: {why}")


def _decoder(spec: Any, fmt: YuvFormat | None) -> Any:
    from .codecs.decoders import CommandDecoder, get_decoder

    if not isinstance(spec, str):
        return spec
    if fmt is not None and "{input}" in spec:
        return CommandDecoder(spec, fmt=fmt)
    return get_decoder(spec)


def iter_frames(path: Path, fmt: YuvFormat, frames: int) -> Iterator[bytes]:
    """The first ``frames`` frames of a planar YUV file as raw bytes, one at a time (a short read raises
    :class:`BitstreamError`)."""
    fb = fmt.frame_bytes
    with open(path, "rb") as fh:
        for k in range(frames):
            data = fh.read(fb)
            if len(data) != fb:
                raise BitstreamError(f"{path.name} ends inside frame {k}")
            yield data


def _frame_md5s(path: Path, fmt: YuvFormat, frames: int) -> list[str]:
    return [hashlib.md5(data).hexdigest() for data in iter_frames(path, fmt, frames)]


def _md5_of(md5s: list[str]) -> str:
    """MD5 over the per-frame MD5s (a short identifier of the whole decoded sequence in the checks)."""
    return hashlib.md5("".join(md5s).encode()).hexdigest()


def _agreement(md5s: dict[str, list[str]], checks: dict[str, dict]) -> str | None:
    """Every decoder must give the same frames: the first differing frame and the decoders when not."""
    labels = list(md5s)
    ref = labels[0]
    for other in labels[1:]:
        for k, (a, b) in enumerate(zip(md5s[ref], md5s[other])):
            if a != b:
                checks["agreement"] = {"ok": False, "frame": k, "md5": {ref: a, other: b}}
                return f"frame {k}: decoders disagree ({ref} {a}, {other} {b})"
    if len(labels) > 1:
        checks["agreement"] = {"ok": True, "decoders": labels}
    return None


def _uncropped(path: Path, decoders: Sequence, fmt: YuvFormat, frames: int, cropped: bool, timeout: float,
               tmpd: Path, checks: dict[str, dict]) -> tuple[Path, str | None]:
    """The full coded pictures at the coded bit depth (what the SEI covers), decoded by FFmpeg or PyAV."""
    from .codecs.decoders import get_decoder

    names = [d if isinstance(d, str) else getattr(d, "name", "") for d in decoders]
    name = next((n for n in names if n in ("ffmpeg", "pyav")), "ffmpeg")
    src = tmpd / "uncropped.yuv"
    try:
        get_decoder(name).decode(path, src, bit_depth=fmt.bit_depth, timeout=timeout, crop=not cropped)
    except BitstreamError as exc:
        _disk_not_at_fault(tmpd, fmt.frame_bytes * frames, name, path)
        checks["sei_hash"] = {"ok": False, "detail": f"uncropped decode failed: {exc}"}
        return src, f"SEI picture hash not checkable: uncropped decode failed ({exc})"
    size = src.stat().st_size if src.is_file() else 0
    if size != fmt.frame_bytes * frames:
        _disk_not_at_fault(tmpd, fmt.frame_bytes * frames, name, path)
        checks["sei_hash"] = {"ok": False, "detail": f"uncropped decode wrote {size} bytes"}
        return src, (f"SEI picture hash not checkable: the uncropped decode wrote {size} bytes, not {frames} "
                     f"frame(s) of {fmt.describe()}")
    return src, None


def _check_sei(order: list[PictureUnit], src: Path, fmt: YuvFormat, coded_depth: int, pictures: list[dict],
               checks: dict[str, dict], cropped: bool) -> list[str]:
    """Each output frame against its picture's hash SEI: the problems, one per bad frame."""
    bad, absent, mismatched = [], 0, []
    for k, (u, data) in enumerate(zip(order, iter_frames(src, fmt, len(order)))):
        ph = u.hash
        if ph is None:
            absent += 1
            continue
        planes = planes_from_bytes(data, fmt)
        actual = [plane_hash(p, coded_depth, ph.hash_type) for p in planes[: len(ph.values)]]
        if actual == ph.values:
            pictures[k]["sei"] = "ok"
        else:
            pictures[k]["sei"] = "mismatch"
            mismatched.append(k)
            bad.append(f"frame {k}: {ph.hash_type} SEI of POC {u.poc} (picture {u.index} in decoding order) "
                       f"{ph.values} != decoded {actual}")
    checks["sei_hash"] = {"ok": not bad, "checked": len(order) - absent, "absent": absent,
                          "mismatched": mismatched, "full_picture": cropped}
    return bad


def _check_recon(recon: Path, decoded: Path, fmt: YuvFormat, frames: int, frame_md5: list[str],
                 pictures: list[dict], checks: dict[str, dict]) -> str | None:
    """Each decoded frame against the encoder's reconstruction (marks ``pictures``); a whole-file problem
    (missing, wrong size) is returned."""
    if not recon.is_file():
        checks["recon"] = {"ok": False, "detail": f"{recon} not found"}
        return f"encoder reconstruction {recon} not found"
    rsize, want = recon.stat().st_size, fmt.frame_bytes * frames
    if rsize != want:
        checks["recon"] = {"ok": False, "detail": f"recon {rsize} bytes vs {want} for {frames} frame(s)"}
        return (f"encoder reconstruction has {rsize} bytes; {frames} frame(s) of {fmt.describe()} are {want} "
                f"(recon and decoded output must have the same bit depth)")
    mismatched = []
    for k, data in enumerate(iter_frames(recon, fmt, frames)):
        ok = hashlib.md5(data).hexdigest() == frame_md5[k]
        pictures[k]["recon"] = "ok" if ok else "mismatch"
        if not ok:
            mismatched.append(k)
    checks["recon"] = {"ok": not mismatched, "checked": frames, "mismatched": mismatched}
    return None


def _keep_move(decoded: Path, keep: Path | None) -> Path | None:
    """Move the decoded file (it can be gigabytes) to ``keep``; a copy across file systems."""
    if keep is None:
        return None
    kept = Path(keep)
    kept.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(decoded, kept)
    except OSError as exc:
        if is_storage_fault(exc):
            raise
        shutil.copyfile(decoded, kept)
    return kept


__all__ = ["SequenceVerdict", "iter_frames", "verify_sequence"]
