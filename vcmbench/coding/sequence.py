"""Inter coding of a whole sequence: the settings, the segment plan and the record of one encode.

A video condition codes a sequence, not a picture: VTM with the low-delay or random-access cfg the
condition names, VVenC through FFmpeg with the same GOP structure where VVenC can express it, or a
template codec with ``{frames} {fps} {frame_skip} {intra_period}`` placeholders.  Long sequences
may be split at intra periods into independent encodes that are joined into one bitstream
decoding as the whole sequence; the split is recorded (``SequenceEncode.segments``).

Splitting (:func:`plan_segments`) follows CompressAI-Vision's ``parallel_encoding`` (31165daf,
``codecs/std_codecs.py`` ``_parallel_encode_cmd`` / ``_distribute_parallel_work``): segment k starts
at frame ``k * intra_period`` and codes ``intra_period + 1`` frames, so each segment's last frame is
the intra picture the next segment starts with (as an IDR).  The join (:func:`join_segments`)
re-derives VTM-12.0 ``source/App/Parcat/parcat.cpp``: from every segment after the first it drops
the parameter sets, APS, picture headers and AUDs before the first IDR, the IDR slice itself (the
duplicate of the previous segment's last picture) and the suffix SEI after it (its picture hash),
and rewrites the POC LSB of every other picture header to continue the count.  Differences from
the peer, on purpose: no trailing one-frame segment (the peer makes one when ``frames = k*ip + 1``;
parcat then drops it whole, so it is wasted work), no crash when ``frames / intra_period`` is an
odd integer >= 3 (the peer's ``round(frames/ip + 0.5)`` rounds half to even and asks for one worker
too many, failing its own assertion), and the POC LSB width read from the SPS (parcat hard-codes 8
bits, VTM's value; the join checks the POCs it reads are the segment's own).

Resume: every finished segment is kept under ``work_dir`` with ``progress.json`` (written atomically,
sha256 of each segment's bitstream and recon); a later call with the same settings reuses the
segments whose files still hash as recorded and encodes the others.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import BitstreamError, CodecError, UsageError
from ..core.hashing import file_digest
from ..core.jsonio import read_json, write_json
from .bitstream import BitReader, unescape
from .codecs.base import check_common_settings
from .yuv import YuvFormat

STRUCTURES = ("low-delay", "random-access")


@dataclass
class SequenceSettings:
    """How to encode one sequence (or one segment of it).  ``fmt`` is the format of ONE frame of the
    input file; ``frame_skip`` frames of the input are skipped before ``frames`` are coded."""

    qp: int
    fmt: YuvFormat
    frames: int
    fps: float
    intra_period: int
    structure: str = "low-delay"
    frame_skip: int = 0
    internal_bit_depth: int = 10
    preset: str = "medium"  # VVenC preset; ignored by VTM (its cfg decides)
    loop_filter: bool = True
    sei_hash: bool = False  # decoded-picture-hash SEI (MD5) in every picture
    extra_args: tuple[str, ...] = ()
    timeout: float = 6 * 3600.0  # per segment encode
    threads: int = 1

    def __post_init__(self) -> None:
        check_common_settings(self)
        if self.structure not in STRUCTURES:
            raise UsageError(f"Unknown coding structure {self.structure!r}: use one of {', '.join(STRUCTURES)}.")
        for k in ("frames", "intra_period"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise UsageError(f"Invalid {k} {v!r}: a positive number of frames.")
        if isinstance(self.frame_skip, bool) or not isinstance(self.frame_skip, int) or self.frame_skip < 0:
            raise UsageError(f"Invalid frame_skip {self.frame_skip!r}: 0 or more frames.")
        if not (isinstance(self.fps, (int, float)) and not isinstance(self.fps, bool) and 0 < self.fps <= 1000):
            raise UsageError(f"Invalid frame rate {self.fps!r}: a positive number of frames per second.")


@dataclass
class SequenceEncode:
    """One sequence coded (all its segments joined) into ``bitstream``."""

    bitstream: Path
    bits: int  # 8 x size of the joined bitstream file
    seconds: float  # wall-clock seconds of all encoder processes
    commands: list[list[str]]  # every encoder (and join) command line, in order
    log_paths: list[Path]
    recon: Path | None  # the encoder's reconstruction of every frame in output order (internal bit depth), if any
    segments: list[dict[str, Any]] = field(default_factory=list)  # {first, frames, bits, sha256, seconds, reused}
    join: dict[str, Any] = field(default_factory=dict)  # how the segments were joined (method, source)
    info: dict[str, Any] = field(default_factory=dict)  # parsed logs: pictures (poc, type, qp, bits, psnr), banner…


JOIN_PARCAT = "parcat"  # overlapping segments, VTM parcat's join (VTM)
JOIN_CONCAT = "concat"  # back-to-back segments, each a whole coded video sequence: plain concatenation
PARCAT_SOURCE = "VTM-12.0 source/App/Parcat/parcat.cpp (re-derived, not called)"


def plan_segments(frames: int, intra_period: int, split: bool = True, overlap: bool = True) -> list[tuple[int, int]]:
    """The segments ``(first frame, frame count)`` a sequence of ``frames`` frames is coded in.

    ``split=False`` or ``intra_period >= frames - 1``: one segment.  ``overlap=True`` (the parcat join):
    segment k starts at ``k * intra_period`` and codes ``intra_period + 1`` frames (fewer in the last), so
    consecutive segments share their boundary intra frame; no segment is made of that shared frame alone.
    ``overlap=False`` (the concat join): back-to-back segments of ``intra_period`` frames."""
    for name, v in (("frames", frames), ("intra_period", intra_period)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise UsageError(f"Invalid {name} {v!r}: a positive number of frames.")
    if not split:
        return [(0, frames)]
    if not overlap:
        return [(s, min(intra_period, frames - s)) for s in range(0, frames, intra_period)]
    if frames <= intra_period + 1:
        return [(0, frames)]
    return [(s, min(intra_period + 1, frames - s)) for s in range(0, frames - 1, intra_period)]


# ---------------------------------------------------------------------------------------------- join
_IDR = (7, 8)
_PH, _SPS, _SUFFIX_SEI = 19, 15, 24
_PARAMS_BEFORE_IDR = (12, 13, 14, 15, 16, 17, 18, 19, 20)  # OPI DCI VPS SPS PPS APS(prefix, suffix) PH AUD


def _annexb_units(data: bytes) -> list[tuple[bytes, bytes]]:
    """(bytes before the NAL unit: start code and any zero bytes, NAL unit) in file order, cut as parcat's
    ``find_nal_unit`` cuts them: a NAL unit ends at the next ``00 00 00`` or ``00 00 01`` (never within the
    file's last 3 bytes), so trailing zero bytes travel with the next unit's start code."""
    units = []
    pos, n = 0, len(data)
    while True:
        sc = data.find(b"\x00\x00\x01", pos)
        if sc < 0:
            break
        start = sc + 3
        ends = [j for j in (data.find(b"\x00\x00\x00", start, n - 1), data.find(b"\x00\x00\x01", start, n - 1))
                if j >= 0]
        end = min(ends) if ends else n
        if end - start < 2:
            raise BitstreamError(f"a NAL unit of {end - start} byte(s) at byte {start}: a header needs 2")
        units.append((data[pos:start], data[start:end]))
        pos = end
    if not units:
        raise BitstreamError("no Annex-B start code (00 00 01) found: not a raw VVC bitstream")
    return units


def sps_poc_lsb_bits(rbsp: bytes) -> int:
    """``sps_log2_max_pic_order_cnt_lsb_minus4 + 4`` of an SPS RBSP (after the NAL header)."""
    from .bitstream import _profile_tier_level, _skip_subpic_info

    r = BitReader(rbsp)
    r.u(8)  # sps_seq_parameter_set_id, sps_video_parameter_set_id
    msl1 = r.u(3)
    r.u(2)  # chroma_format_idc
    ctu = 1 << (r.u(2) + 5)
    if r.u(1):
        _profile_tier_level(r, msl1)
    r.u(1)  # sps_gdr_enabled_flag
    if r.u(1):
        r.u(1)
    w, h = r.ue(), r.ue()
    if r.u(1):
        for _ in range(4):
            r.ue()
    if r.u(1):
        _skip_subpic_info(r, w, h, ctu)
    r.ue()  # sps_bitdepth_minus8
    r.u(1)  # sps_entropy_coding_sync_enabled_flag
    r.u(1)  # sps_entry_point_offsets_present_flag
    return r.u(4) + 4


def _poc_lsb_position(nal: bytes, in_slice: bool) -> int:
    """Bit offset (from the NAL header's first bit) of ph_pic_order_cnt_lsb in a PH NAL unit or in a slice
    whose picture header is in the slice header (parcat's ``parsePictureHeaderUpToPoc``)."""
    rbsp = unescape(nal)
    r = BitReader(rbsp)
    r.u(16)
    if in_slice:
        r.u(1)  # sh_picture_header_in_slice_header_flag
    if r.u(1):  # ph_gdr_or_irap_pic_flag
        r.u(1)  # ph_non_ref_pic_flag
        r.u(1)  # ph_gdr_pic_flag
    else:
        r.u(1)
    if r.u(1):  # ph_inter_slice_allowed_flag
        r.u(1)  # ph_intra_slice_allowed_flag
    r.ue()  # ph_pic_parameter_set_id
    end_byte = (r.pos + 32) // 8
    if nal[:end_byte] != rbsp[:end_byte]:
        raise BitstreamError("an emulation-prevention byte inside a picture header's first bytes: the POC cannot "
                             "be rewritten in place; encode without splitting (split=False)")
    return r.pos


def _rewrite_bits(nal: bytearray, pos: int, nbits: int, value: int | None) -> int:
    """Read (and, when ``value`` is given, overwrite) ``nbits`` bits at bit ``pos`` of ``nal``; the old value."""
    first, last = pos // 8, (pos + nbits - 1) // 8
    if last >= len(nal):
        raise BitstreamError("a picture header ends inside its POC LSB")
    width = (last - first + 1) * 8
    word = int.from_bytes(nal[first:last + 1], "big")
    shift = width - (pos - first * 8) - nbits
    mask = ((1 << nbits) - 1) << shift
    old = (word & mask) >> shift
    if value is not None:
        word = (word & ~mask) | ((value << shift) & mask)
        nal[first:last + 1] = word.to_bytes(last - first + 1, "big")
    return old


def join_segments(parts: list[bytes], frames: list[int] | None = None) -> tuple[bytes, dict[str, Any]]:
    """Join overlapping segment bitstreams as VTM's parcat does (see the module docstring); returns the joined
    bitstream and what was done.  ``frames`` (pictures per segment) checks the POCs read: segment k's
    pictures must carry POC LSBs 1..n-1 (its IDR carries 0), which also proves the POC LSB width.

    Byte-equal to ``parcat seg1 seg2 ... out`` for VTM streams (8-bit POC LSB); parcat itself trusts the
    stream blindly (8 bits hard-coded, no check), this join refuses a stream it cannot rewrite."""
    out = bytearray()
    poc_base = 0
    poc_bits = None
    record: dict[str, Any] = {"method": JOIN_PARCAT, "source": PARCAT_SOURCE, "segments": []}
    for idx, data in enumerate(parts, start=1):
        idr_found = skip_next_sei = first_idr_after_ph = False
        cnt = dropped = 0
        lsbs: list[int] = []
        for prefix, nal in _annexb_units(data):
            t = nal[1] >> 3
            if t == _SPS and poc_bits is None:
                poc_bits = sps_poc_lsb_bits(unescape(nal[2:]))
            body = bytearray(nal)
            if t in _IDR:
                if first_idr_after_ph:
                    cnt -= 1
                first_idr_after_ph = False
            if t == _PH or t < 7 or 8 < t <= 11:
                change = True
                if t == _PH:
                    first_idr_after_ph = True
                else:
                    change = bool(nal[2] >> 7)  # sh_picture_header_in_slice_header_flag
                if change:
                    if poc_bits is None:
                        raise BitstreamError(f"segment {idx}: a picture before any SPS")
                    pos = _poc_lsb_position(nal, t != _PH)
                    lsb = _rewrite_bits(body, pos, poc_bits, None)
                    lsbs.append(lsb)
                    new = (lsb + poc_base) & ((1 << poc_bits) - 1)
                    if new != lsb:
                        _rewrite_bits(body, pos, poc_bits, new)
                        for k in range(max(pos // 8 - 2, 2), min((pos + poc_bits) // 8 + 3, len(body) - 2)):
                            if body[k] == 0 and body[k + 1] == 0 and body[k + 2] <= 2:
                                raise BitstreamError(f"segment {idx}: the rewritten POC makes a start-code pattern; "
                                                     "encode without splitting (split=False)")
                    cnt += 1
            drop = idx > 1 and (t in _IDR or (not idr_found and t in _PARAMS_BEFORE_IDR)) \
                or (t == _SUFFIX_SEI and skip_next_sei)
            if idx > 1 and t in _IDR:
                skip_next_sei = idr_found = True
            elif t == _SUFFIX_SEI and skip_next_sei and drop:
                skip_next_sei = False
            if drop:
                dropped += 1
            else:
                out += prefix
                out += body
        if frames is not None and idx <= len(frames):
            n = frames[idx - 1]
            m = (1 << (poc_bits or 8)) - 1
            got = sorted(lsbs)
            if n <= m and got not in ([p for p in range(n)], [p for p in range(1, n)]):
                raise BitstreamError(f"segment {idx}: its pictures carry POC LSBs {got[:8]}..., not 0..{n - 1}"
                                     ": not a VTM segment starting with an IDR; it cannot be joined this way")
        record["segments"].append({"index": idx, "poc_base": poc_base, "pictures_renumbered": cnt,
                                   "nal_units_dropped": dropped})
        poc_base += cnt
    record["poc_lsb_bits"] = poc_bits
    return bytes(out), record


# ------------------------------------------------------------------------------------- encode + resume
PROGRESS = "progress.json"
PROGRESS_VERSION = 1


def _sha256(path: Path) -> str:
    return file_digest(path, "sha256")


def _codec_identity(codec: Any) -> str:
    try:
        return str(codec.signature())
    except Exception:  # noqa: BLE001 - an identity for the resume key only; the encode itself reports failures
        return getattr(codec, "name", type(codec).__name__)


def _resume_key(codec: Any, src_yuv: Path, settings: SequenceSettings, plan: list[tuple[int, int]], join: str) -> str:
    s = dataclasses.asdict(settings)
    s.pop("timeout", None)
    s.pop("threads", None)
    blob = json.dumps({"codec": _codec_identity(codec), "settings": s, "plan": plan, "join": join,
                       "source_bytes": src_yuv.stat().st_size}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _load_progress(path: Path, key: str) -> dict[int, dict[str, Any]]:
    """Finished segments recorded under the same key; anything unreadable or foreign counts as nothing done."""
    if not path.is_file():
        return {}
    try:
        doc = read_json(path, "segment progress")
    except Exception:  # noqa: BLE001 - a torn or foreign file: start over (every segment is re-checked anyway)
        return {}
    if not isinstance(doc, dict) or doc.get("version") != PROGRESS_VERSION or doc.get("key") != key:
        return {}
    return {int(e["index"]): e for e in doc.get("segments", []) if isinstance(e, dict) and "index" in e}


def _still_valid(entry: dict[str, Any], work_dir: Path, first: int, frames: int) -> bool:
    if entry.get("first") != first or entry.get("frames") != frames:
        return False
    bs = work_dir / str(entry.get("bitstream", ""))
    if not bs.is_file() or _sha256(bs) != entry.get("sha256"):
        return False
    if entry.get("recon"):
        rec = work_dir / str(entry["recon"])
        if not rec.is_file() or _sha256(rec) != entry.get("recon_sha256"):
            return False
    return True


def _write_progress(path: Path, key: str, done: dict[int, dict[str, Any]]) -> None:
    write_json(path, {"version": PROGRESS_VERSION, "key": key,
                      "segments": [done[k] for k in sorted(done)]})


def _join_recons(recons: list[Path], counts: list[int], overlap: bool, out: Path) -> Path:
    """Concatenate the segments' reconstructions (dropping each later segment's first frame when they overlap)."""
    tmp = out.with_name(f".{out.name}.partial")
    with open(tmp, "wb") as fo:
        for k, (rec, n) in enumerate(zip(recons, counts)):
            size = rec.stat().st_size
            if size % n:
                raise CodecError(f"The encoder's reconstruction {rec} has {size} bytes: not {n} whole frames.")
            skip = size // n if (overlap and k > 0) else 0
            with open(rec, "rb") as fi:
                fi.seek(skip)
                shutil.copyfileobj(fi, fo, 1 << 20)
    os.replace(tmp, out)
    return out


def encode_sequence(codec: Any, src_yuv: Path, bitstream: Path, settings: SequenceSettings, *,
                    log_dir: Path, work_dir: Path, split: bool = True) -> SequenceEncode:
    """Encode a sequence, segment by segment (:func:`plan_segments`), resuming finished segments.

    Each segment is ``codec.encode_sequence`` with ``frame_skip`` = the segment's start (plus
    ``settings.frame_skip``); finished segments are kept under ``work_dir`` and listed with their sha256 in
    ``work_dir/progress.json`` (atomic), so a re-call after a kill reuses every finished segment whose files
    still hash as recorded and encodes the rest.  The segments are joined (parcat's way for a codec whose
    ``sequence_join`` is ``"parcat"``, VTM; back-to-back concatenation otherwise) into ``bitstream``
    atomically; ``recon`` is the segments' reconstructions joined the same way when every segment has one."""
    src_yuv, bitstream, work_dir, log_dir = Path(src_yuv), Path(bitstream), Path(work_dir), Path(log_dir)
    if not src_yuv.is_file():
        from ..core.errors import DataError

        raise DataError(f"Input YUV not found: {src_yuv}. Write the sequence first (write_source_yuv).")
    need = (settings.frame_skip + settings.frames) * settings.fmt.frame_bytes
    if src_yuv.stat().st_size < need:
        from ..core.errors import DataError

        raise DataError(f"{src_yuv} has {src_yuv.stat().st_size} bytes, fewer than the {settings.frame_skip} + "
                        f"{settings.frames} frames of {settings.fmt.describe()} to code ({need} bytes). "
                        "Check the frame count and format.")
    join = getattr(codec, "sequence_join", JOIN_CONCAT)
    overlap = join == JOIN_PARCAT
    plan = plan_segments(settings.frames, settings.intra_period, split, overlap=overlap)
    work_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    key = _resume_key(codec, src_yuv, settings, plan, join)
    progress = work_dir / PROGRESS
    done = {k: e for k, e in _load_progress(progress, key).items()
            if k < len(plan) and _still_valid(e, work_dir, *plan[k])}
    reused = set(done)
    for k, (first, count) in enumerate(plan):
        if k in done:
            continue
        seg_bs = work_dir / f"segment_{k:03d}.266"
        seg_rec = work_dir / f"segment_{k:03d}_recon.yuv"
        seg_settings = dataclasses.replace(settings, frames=count, frame_skip=settings.frame_skip + first)
        res = codec.encode_sequence(src_yuv, seg_bs, seg_settings, log_dir=log_dir)
        if res.recon is not None and Path(res.recon).is_file():
            if Path(res.recon) != seg_rec:
                os.replace(res.recon, seg_rec)
            recon_name, recon_sha = seg_rec.name, _sha256(seg_rec)
        else:
            seg_rec.unlink(missing_ok=True)
            recon_name = recon_sha = None
        done[k] = {"index": k, "first": first, "frames": count, "bitstream": seg_bs.name, "sha256": _sha256(seg_bs),
                   "bits": seg_bs.stat().st_size * 8, "seconds": round(res.seconds, 3), "recon": recon_name,
                   "recon_sha256": recon_sha, "command": [str(c) for c in res.command],
                   "log": str(res.log_path) if res.log_path else None, "info": res.info}
        _write_progress(progress, key, done)
    entries = [done[k] for k in range(len(plan))]
    parts = [(work_dir / e["bitstream"]).read_bytes() for e in entries]
    if len(parts) == 1:
        data, join_rec = parts[0], {"method": "none", "segments": 1}
    elif overlap:
        data, join_rec = join_segments(parts, [e["frames"] for e in entries])
        join_rec["same_as_unsplit"] = "byte-equal for VTM 12.0 LD and RA (tests/integration/test_sequence_vtm.py)"
    else:
        data, join_rec = b"".join(parts), {
            "method": JOIN_CONCAT, "segments": len(parts), "same_as_unsplit": False,
            "note": "each segment is a whole coded video sequence (starts with an IDR); the split changes the "
                    "coding (each segment closes its own GOPs): code VVenC and template sequences unsplit for results"}
    from ..core.jsonio import atomic_write_bytes

    bitstream.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(bitstream, data)
    recon = None
    if all(e.get("recon") for e in entries):
        recon = _join_recons([work_dir / e["recon"] for e in entries], [e["frames"] for e in entries], overlap,
                             work_dir / "recon.yuv")
    pictures: list[dict[str, Any]] = []
    for k, e in enumerate(entries):
        for p in (e.get("info") or {}).get("pictures", []) or []:
            if overlap and k > 0 and p.get("poc") == 0:
                continue  # the shared intra frame, coded by the previous segment
            q = dict(p)
            q["segment"] = k
            q["poc"] = int(p.get("poc", 0)) + e["first"]  # each segment's POCs count from its own first frame
            pictures.append(q)
    pictures.sort(key=lambda p: p["poc"])
    first_info = {k: v for k, v in (entries[0].get("info") or {}).items() if k != "pictures"}
    info: dict[str, Any] = {"pictures": pictures, "encoder": first_info,
                            "picture_bits": sum(int(p.get("bits", 0)) for p in pictures)}
    for extra in ("structure_note", "gop"):
        if extra in first_info:
            info[extra] = first_info[extra]
    segments = [{"first": e["first"], "frames": e["frames"], "bits": e["bits"], "sha256": e["sha256"],
                 "seconds": e["seconds"], "reused": e["index"] in reused} for e in entries]
    return SequenceEncode(bitstream=bitstream, bits=bitstream.stat().st_size * 8,
                          seconds=round(sum(e["seconds"] for e in entries), 3),
                          commands=[e["command"] for e in entries],
                          log_paths=[Path(e["log"]) for e in entries if e.get("log")], recon=recon,
                          segments=segments, join=join_rec, info=info)
