"""VVC (H.266) Annex-B bitstream parsing in pure Python (no dependencies).

What it reads (DESIGN.md §5.5; ITU-T H.266 §7.3):

* Annex-B byte stream: NAL units separated by start codes ``00 00 01`` / ``00 00 00 01``
  (trailing zero bytes belong to no NAL unit);
* emulation-prevention removal (``00 00 03`` -> ``00 00``) to get the RBSP;
* the two-byte NAL unit header (forbidden_zero_bit, nuh_reserved_zero_bit, nuh_layer_id u(6),
  nal_unit_type u(5), nuh_temporal_id_plus1 u(3)) and the NAL type names;
* the SPS up to the bit depth: size, conformance window, chroma format, bit depth,
  profile/tier/level (H.266 §7.3.2.4, §7.3.3.1, §7.3.3.2);
* SEI messages (H.266 §7.3.6) and the decoded-picture-hash SEI (payload type 132, H.274/H.266
  §D: hash type 0 MD5, 1 CRC, 2 checksum, one value per colour component).

Every malformed input raises :class:`~vcmbench.core.errors.BitstreamError` with a reason; nothing
else escapes the parsers (they are fed corrupted data by the verification fuzz tests).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..core.errors import BitstreamError

NAL_TYPES = {
    0: "TRAIL", 1: "STSA", 2: "RADL", 3: "RASL", 4: "RSV_VCL_4", 5: "RSV_VCL_5", 6: "RSV_VCL_6",
    7: "IDR_W_RADL", 8: "IDR_N_LP", 9: "CRA", 10: "GDR", 11: "RSV_IRAP_11", 12: "OPI", 13: "DCI",
    14: "VPS", 15: "SPS", 16: "PPS", 17: "PREFIX_APS", 18: "SUFFIX_APS", 19: "PH", 20: "AUD",
    21: "EOS", 22: "EOB", 23: "PREFIX_SEI", 24: "SUFFIX_SEI", 25: "FD",
    26: "RSV_NVCL_26", 27: "RSV_NVCL_27", 28: "UNSPEC_28", 29: "UNSPEC_29", 30: "UNSPEC_30", 31: "UNSPEC_31",
}
VCL_TYPES = frozenset(range(0, 12))
CHROMA_IDC_TO_FORMAT = {0: 400, 1: 420, 2: 422, 3: 444}
PROFILES = {1: "Main 10", 65: "Main 10 Still Picture", 33: "Main 10 4:4:4",
            97: "Main 10 4:4:4 Still Picture", 17: "Multilayer Main 10", 49: "Multilayer Main 10 4:4:4"}
HASH_TYPES = {0: "md5", 1: "crc", 2: "checksum"}
SEI_DECODED_PICTURE_HASH = 132


@dataclass
class Nal:
    offset: int  # byte offset of the NAL header in the file
    size: int  # bytes of the NAL unit (header + payload, emulation prevention included)
    start_code: int  # 3 or 4
    forbidden_zero_bit: int
    nuh_reserved_zero_bit: int
    layer_id: int
    nal_type: int
    temporal_id: int  # nuh_temporal_id_plus1 - 1
    payload: bytes = field(repr=False)  # the NAL unit after the 2-byte header, still escaped

    @property
    def type_name(self) -> str:
        return NAL_TYPES.get(self.nal_type, f"TYPE_{self.nal_type}")

    @property
    def is_vcl(self) -> bool:
        return self.nal_type in VCL_TYPES


def split_annexb(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Yield (offset of the NAL unit, start-code length, NAL unit bytes) for each NAL unit."""
    n = len(data)
    starts: list[tuple[int, int]] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        sc = 4 if i > 0 and data[i - 1] == 0 else 3
        starts.append((i + 3, sc))
        i = data.find(b"\x00\x00\x01", i + 3)
    if not starts:
        raise BitstreamError("no Annex-B start code (00 00 01) found: not a raw VVC bitstream")
    first_sc_at = starts[0][0] - starts[0][1]
    if any(data[:max(first_sc_at, 0)]):
        raise BitstreamError(f"{first_sc_at} byte(s) of non-zero data before the first start code")
    for k, (s, sc) in enumerate(starts):
        end = starts[k + 1][0] - 3 if k + 1 < len(starts) else n
        nal = data[s:end]
        nal = nal.rstrip(b"\x00")  # trailing_zero_8bits / the zero byte of a 4-byte start code
        yield s, sc, nal


def unescape(payload: bytes) -> bytes:
    """Remove emulation-prevention bytes: every ``03`` that follows ``00 00``."""
    if b"\x00\x00\x03" not in payload:
        return payload
    out = bytearray()
    zeros = 0
    for b in payload:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def parse_nals(data: bytes) -> list[Nal]:
    nals = []
    for off, sc, nal in split_annexb(data):
        if len(nal) < 2:
            raise BitstreamError(f"NAL unit at byte {off} is {len(nal)} byte(s) long; a header needs 2")
        b0, b1 = nal[0], nal[1]
        tid1 = b1 & 7
        nals.append(Nal(off, len(nal), sc, b0 >> 7, (b0 >> 6) & 1, b0 & 0x3F, b1 >> 3, tid1 - 1, nal[2:]))
    return nals


class BitReader:
    """MSB-first reader over an RBSP with u(n), ue(v), se(v); reading past the end raises."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.nbits = len(data) * 8

    def u(self, n: int) -> int:
        if n == 0:
            return 0
        if self.pos + n > self.nbits:
            raise BitstreamError("syntax element runs past the end of the NAL unit")
        v = 0
        for _ in range(n):
            v = (v << 1) | ((self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise BitstreamError("exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)

    def byte_align(self) -> None:
        self.pos = (self.pos + 7) & ~7

    @property
    def byte_aligned(self) -> bool:
        return self.pos % 8 == 0

    def bytes_left(self) -> int:
        return (self.nbits - self.pos) // 8


@dataclass
class SpsInfo:
    sps_id: int
    vps_id: int
    max_sublayers: int
    chroma_format_idc: int
    chroma_format: int  # 400 | 420 | 422 | 444
    ctu_size: int
    profile_idc: int | None
    profile: str | None
    tier: str | None
    level_idc: int | None
    level: str | None  # general_level_idc / 16, e.g. "4.1" (H.266 Table A.8)
    coded_width: int  # sps_pic_width_max_in_luma_samples
    coded_height: int
    conf_win: tuple[int, int, int, int]  # left, right, top, bottom in luma samples
    width: int  # after the conformance window (what a decoder outputs)
    height: int
    bit_depth: int


def _profile_tier_level(r: BitReader, max_sublayers_minus1: int) -> tuple[int, int, int]:
    profile_idc = r.u(7)
    tier = r.u(1)
    level_idc = r.u(8)
    r.u(1)  # ptl_frame_only_constraint_flag
    r.u(1)  # ptl_multilayer_enabled_flag
    if r.u(1):  # gci_present_flag: 71 constraint bits, gci_num_reserved_bits, reserved bits
        r.u(32)
        r.u(32)
        r.u(7)
        r.u(r.u(8))
    r.byte_align()  # gci_alignment_zero_bit
    present = [r.u(1) for _ in range(max_sublayers_minus1)]
    r.byte_align()  # ptl_reserved_zero_bit
    for p in present:
        if p:
            r.u(8)
    for _ in range(r.u(8)):  # ptl_num_sub_profiles
        r.u(32)
    return profile_idc, tier, level_idc


def parse_sps(rbsp: bytes) -> SpsInfo:
    """Parse an SPS RBSP (without the NAL header) up to sps_bitdepth_minus8."""
    return _read_sps(BitReader(rbsp))


def _read_sps(r: BitReader) -> SpsInfo:
    sps_id, vps_id = r.u(4), r.u(4)
    msl1 = r.u(3)
    if msl1 > 6:
        raise BitstreamError(f"sps_max_sublayers_minus1 = {msl1} (must be 0..6)")
    cfi = r.u(2)
    ctu = 1 << (r.u(2) + 5)
    prof = tier = lvl = None
    if r.u(1):  # sps_ptl_dpb_hrd_params_present_flag
        prof, tier, lvl = _profile_tier_level(r, msl1)
    r.u(1)  # sps_gdr_enabled_flag
    if r.u(1):  # sps_ref_pic_resampling_enabled_flag
        r.u(1)  # sps_res_change_in_clvs_allowed_flag
    w, h = r.ue(), r.ue()
    if not (0 < w <= 65536 and 0 < h <= 65536):
        raise BitstreamError(f"SPS picture size {w}x{h} is out of range")
    sub_w = 1 if cfi in (0, 3) else 2
    sub_h = 2 if cfi == 1 else 1
    cw = (0, 0, 0, 0)
    if r.u(1):  # sps_conformance_window_flag, offsets in chroma units
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        cw = (left * sub_w, right * sub_w, top * sub_h, bottom * sub_h)
    out_w, out_h = w - cw[0] - cw[1], h - cw[2] - cw[3]
    if out_w <= 0 or out_h <= 0:
        raise BitstreamError(f"conformance window {cw} leaves no picture of {w}x{h}")
    if r.u(1):  # sps_subpic_info_present_flag
        _skip_subpic_info(r, w, h, ctu)
    bd = r.ue() + 8
    if bd > 16:
        raise BitstreamError(f"bit depth {bd} is out of range")
    return SpsInfo(sps_id, vps_id, msl1 + 1, cfi, CHROMA_IDC_TO_FORMAT[cfi], ctu,
                   prof, PROFILES.get(prof) if prof is not None else None,
                   None if tier is None else ("High" if tier else "Main"),
                   lvl, None if lvl is None else _level_name(lvl), w, h, cw, out_w, out_h, bd)


def _level_name(idc: int) -> str:
    if idc == 0:
        return "unspecified"
    major, minor = divmod(idc, 16)
    return f"{major}.{minor // 3}" if minor % 3 == 0 else f"idc{idc}"


def _skip_subpic_info(r: BitReader, w: int, h: int, ctu: int) -> None:
    n1 = r.ue()  # sps_num_subpics_minus1
    if n1 > 600:
        raise BitstreamError(f"sps_num_subpics_minus1 = {n1} is out of range")
    independent, same_size = 1, 0
    if n1 > 0:
        independent, same_size = r.u(1), r.u(1)
    bw = max((((w + ctu - 1) // ctu) - 1).bit_length(), 0)
    bh = max((((h + ctu - 1) // ctu) - 1).bit_length(), 0)
    for i in range(n1 + 1 if n1 > 0 else 0):
        if not same_size or i == 0:
            if i > 0 and w > ctu:
                r.u(bw)
            if i > 0 and h > ctu:
                r.u(bh)
            if i < n1 and w > ctu:
                r.u(bw)
            if i < n1 and h > ctu:
                r.u(bh)
        if not independent:
            r.u(1)
            r.u(1)
    id_len = r.ue() + 1
    if r.u(1) and r.u(1):  # mapping explicitly signalled, mapping present
        for _ in range(n1 + 1):
            r.u(id_len)


@dataclass
class PictureHash:
    nal_index: int
    hash_type: str  # md5 | crc | checksum
    values: list[str]  # one hex string per colour component (Y, Cb, Cr)


def _sei_value(rbsp: bytes, i: int, what: str) -> tuple[int, int]:
    """An SEI payload type or size: 0xFF bytes each add 255, then one final byte (H.266 7.3.6).
    Returns (value, index after it)."""
    value, n = 0, len(rbsp)
    while i < n and rbsp[i] == 0xFF:
        value += 255
        i += 1
    if i >= n:
        raise BitstreamError(f"SEI message {what} runs past the end of the NAL unit")
    return value + rbsp[i], i + 1


def parse_sei(rbsp: bytes) -> list[tuple[int, bytes]]:
    """SEI messages of an SEI RBSP as (payload type, payload bytes)."""
    msgs = []
    i, n = 0, len(rbsp)
    while i < n and not (rbsp[i] == 0x80 and i == n - 1):
        ptype, i = _sei_value(rbsp, i, "type")
        psize, i = _sei_value(rbsp, i, "size")
        if i + psize > n:
            raise BitstreamError(f"SEI payload of {psize} bytes runs past the end of the NAL unit")
        msgs.append((ptype, rbsp[i:i + psize]))
        i += psize
    return msgs


SEI_TYPES = (23, 24)  # PREFIX_SEI_NUT, SUFFIX_SEI_NUT
PICTURE_HASH_SEI = 132


def strip_picture_hash_sei(data: bytes) -> tuple[bytes, int]:
    """``data`` without the SEI NAL units that carry nothing but decoded-picture-hash messages (payload type
    132), every other byte kept as it is; returns (bytes, NAL units removed).  The hash SEI is not used by
    the decoding process (H.266 Annex D): the stream decodes to the same pictures without it.  A video run
    verifies a VVenC sequence picture by picture with the hash SEI and keeps (and rates) the stream
    without it (``run.sequence_jobs``); an SEI NAL unit that also carries another message is kept."""
    units = list(split_annexb(data))
    starts = [off - sc for off, sc, _ in units] + [len(data)]
    out = [data[:starts[0]]]
    removed = 0
    for k, (_off, _sc, nal) in enumerate(units):
        if len(nal) >= 2 and (nal[1] >> 3) in SEI_TYPES:
            try:
                msgs = parse_sei(unescape(nal[2:]))
            except BitstreamError:
                msgs = []
            if msgs and all(t == PICTURE_HASH_SEI for t, _ in msgs):
                removed += 1
                continue
        out.append(data[starts[k]:starts[k + 1]])
    return b"".join(out), removed


def parse_picture_hash(payload: bytes, nal_index: int = -1) -> PictureHash:
    if len(payload) < 2:
        raise BitstreamError("decoded picture hash SEI is too short")
    htype = payload[0]
    if htype not in HASH_TYPES:
        raise BitstreamError(f"decoded picture hash type {htype} is reserved")
    ncomp = 1 if payload[1] & 0x80 else 3
    size = {0: 16, 1: 2, 2: 4}[htype]
    body = payload[2:]
    if len(body) < ncomp * size:
        raise BitstreamError("decoded picture hash SEI is truncated")
    vals = [body[k * size:(k + 1) * size].hex() for k in range(ncomp)]
    return PictureHash(nal_index, HASH_TYPES[htype], vals)


@dataclass
class StreamInfo:
    size: int
    nal_count: int
    nals: list[Nal] = field(repr=False)
    sps: SpsInfo | None
    pictures: int  # coded pictures: PH NAL units + slices that carry their own picture header
    picture_hashes: list[PictureHash]
    bytes_per_type: dict[str, int]
    count_per_type: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "nals"}
        d["nal_units"] = [{"offset": n.offset, "size": n.size, "type": n.nal_type, "name": n.type_name,
                           "layer_id": n.layer_id, "temporal_id": n.temporal_id} for n in self.nals]
        return d


def parse_bitstream(data: bytes) -> StreamInfo:
    """Parse a whole Annex-B VVC bitstream; raise BitstreamError with a reason when it is not one."""
    if not data:
        raise BitstreamError("empty file")
    nals = parse_nals(data)
    sps = None
    hashes: list[PictureHash] = []
    bpt: dict[str, int] = {}
    cpt: dict[str, int] = {}
    pictures = 0
    for k, nal in enumerate(nals):
        if nal.forbidden_zero_bit:
            raise BitstreamError(f"NAL unit {k} at byte {nal.offset}: forbidden_zero_bit is 1")
        if nal.temporal_id < 0:
            raise BitstreamError(f"NAL unit {k} at byte {nal.offset}: nuh_temporal_id_plus1 is 0")
        bpt[nal.type_name] = bpt.get(nal.type_name, 0) + nal.size + nal.start_code
        cpt[nal.type_name] = cpt.get(nal.type_name, 0) + 1
        if nal.nal_type == 15 and sps is None:
            sps = parse_sps(unescape(nal.payload))
        elif nal.nal_type in (23, 24):
            for ptype, payload in parse_sei(unescape(nal.payload)):
                if ptype == SEI_DECODED_PICTURE_HASH:
                    hashes.append(parse_picture_hash(payload, k))
        elif nal.is_vcl and nal.payload and nal.payload[0] & 0x80:
            # sh_picture_header_in_slice_header_flag = 1: the picture header is in this (only) slice
            pictures += 1
        elif nal.nal_type == 19:
            pictures += 1
    if sps is None:
        raise BitstreamError("no SPS (NAL type 15) in the bitstream")
    if not any(n.is_vcl for n in nals):
        raise BitstreamError("no coded slice (VCL NAL unit) in the bitstream")
    return StreamInfo(len(data), len(nals), nals, sps, pictures, hashes, bpt, cpt)


def read_bitstream(path: str | Path) -> StreamInfo:
    """Parse the VVC bitstream file ``path``.  A missing file, a directory, FIFO or device, or a file over
    ``core.inputs.MAX_BITSTREAM`` bytes is bad input (:class:`DataError`, never a hang)."""
    from ..core.inputs import MAX_BITSTREAM, read_bytes

    return parse_bitstream(read_bytes(path, "Bitstream", MAX_BITSTREAM))


# -------------------------------------------------------------------------------- picture order (video)


@dataclass
class SpsPoc:
    """The SPS fields that picture order counts need (H.266 §7.3.2.4, after sps_bitdepth_minus8)."""

    sps_id: int
    log2_max_poc_lsb: int  # sps_log2_max_pic_order_cnt_lsb_minus4 + 4
    poc_msb_cycle_len: int | None  # sps_poc_msb_cycle_len_minus1 + 1 when sps_poc_msb_cycle_flag, else None
    extra_ph_bits: int  # NumExtraPhBits


def parse_sps_poc(rbsp: bytes) -> SpsPoc:
    """Parse an SPS RBSP on to the fields of :class:`SpsPoc`."""
    r = BitReader(rbsp)
    sps = _read_sps(r)
    r.u(1)  # sps_entropy_coding_sync_enabled_flag
    r.u(1)  # sps_entry_point_offsets_present_flag
    log2 = r.u(4) + 4
    if log2 > 16:
        raise BitstreamError(f"sps_log2_max_pic_order_cnt_lsb_minus4 = {log2 - 4} (must be 0..12)")
    cycle = None
    if r.u(1):  # sps_poc_msb_cycle_flag
        cycle = r.ue() + 1
        if cycle > 32 - log2:
            raise BitstreamError(f"sps_poc_msb_cycle_len_minus1 = {cycle - 1} is out of range")
    extra = sum(r.u(1) for _ in range(r.u(2) * 8))  # sps_num_extra_ph_bytes, sps_extra_ph_bit_present_flag
    return SpsPoc(sps.sps_id, log2, cycle, extra)


@dataclass
class PictureUnit:
    """One coded picture of a stream, in decoding order, with the order a decoder outputs it in."""

    index: int  # decoding order, from 0
    nal_type: int  # of its first slice
    temporal_id: int
    non_ref: bool  # ph_non_ref_pic_flag
    poc: int  # PicOrderCntVal (H.266 §8.3.1)
    clvs: int  # the coded layer video sequence it belongs to, from 0
    output: bool  # False for a RASL picture of a CRA that starts a CLVS (decoders skip it)
    hash: PictureHash | None  # its decoded-picture-hash SEI, if any
    offset: int  # byte offset of its first NAL unit (PH or slice)
    size: int  # bytes of its PH and VCL NAL units, start codes included
    end: int  # byte offset after its last slice or suffix NAL unit (SEI, APS, filler): a cut there is a stream

    @property
    def type_name(self) -> str:
        return NAL_TYPES.get(self.nal_type, f"TYPE_{self.nal_type}")


def _picture_header(r: BitReader, pps_sps: dict[int, int], sps_poc: dict[int, SpsPoc]) -> dict[str, Any]:
    """picture_header_structure() up to the POC MSB cycle (H.266 §7.3.2.8)."""
    irap_or_gdr = r.u(1)
    non_ref = r.u(1)
    gdr = r.u(1) if irap_or_gdr else 0
    if r.u(1):  # ph_inter_slice_allowed_flag
        r.u(1)  # ph_intra_slice_allowed_flag
    pps_id = r.ue()
    if pps_id not in pps_sps:
        raise BitstreamError(f"picture header refers to PPS {pps_id}, which precedes no picture")
    sps_id = pps_sps[pps_id]
    if sps_id not in sps_poc:
        raise BitstreamError(f"PPS {pps_id} refers to SPS {sps_id}, which is not in the stream")
    sp = sps_poc[sps_id]
    lsb = r.u(sp.log2_max_poc_lsb)
    if gdr:
        r.ue()  # ph_recovery_poc_cnt
    r.u(sp.extra_ph_bits)  # ph_extra_bit[]
    msb_val = None
    if sp.poc_msb_cycle_len is not None and r.u(1):  # ph_poc_msb_cycle_present_flag
        msb_val = r.u(sp.poc_msb_cycle_len)
    return {"non_ref": bool(non_ref), "lsb": lsb, "max_lsb": 1 << sp.log2_max_poc_lsb, "msb_cycle": msb_val}


def picture_units(info: StreamInfo) -> list[PictureUnit]:
    """The coded pictures of ``info`` in decoding order, each with its picture order count, its coded layer
    video sequence (CLVS) and its decoded-picture-hash SEI.

    Picture boundaries as in :func:`parse_bitstream` (a PH NAL unit, or a slice carrying its own picture
    header).  The POC follows H.266 §8.3.1: ph_pic_order_cnt_lsb from the picture header; the MSB is
    ph_poc_msb_cycle_val x MaxPicOrderCntLsb when signalled, 0 for a CLVS start (an IDR picture, or a
    CRA/GDR picture first in the stream or after an end-of-sequence NAL unit), else derived from the
    previous picture with TemporalId 0 and ph_non_ref_pic_flag 0 that is not RASL/RADL.  A suffix hash SEI
    belongs to the picture before it, a prefix one to the picture after it.  Single-layer streams only:
    a NAL unit with nuh_layer_id > 0 raises :class:`BitstreamError`.
    """
    sps_poc: dict[int, SpsPoc] = {}
    pps_sps: dict[int, int] = {}
    raw: list[dict[str, Any]] = []
    pending_prefix: PictureHash | None = None
    after_eos = False
    cur: dict[str, Any] | None = None
    for k, nal in enumerate(info.nals):
        if nal.layer_id:
            raise BitstreamError(f"NAL unit {k} has nuh_layer_id {nal.layer_id}: only single-layer streams are "
                                 "verified picture by picture")
        t = nal.nal_type
        if t == 15:
            sp = parse_sps_poc(unescape(nal.payload))
            sps_poc[sp.sps_id] = sp
        elif t == 16:
            r = BitReader(unescape(nal.payload[:4]))
            pps_id, sid = r.u(6), r.u(4)
            pps_sps[pps_id] = sid
        elif t == 21:
            after_eos = True
        elif t in (23, 24):
            for ptype, payload in parse_sei(unescape(nal.payload)):
                if ptype != SEI_DECODED_PICTURE_HASH:
                    continue
                ph = parse_picture_hash(payload, k)
                if t == 23:
                    pending_prefix = ph
                elif cur is None:
                    raise BitstreamError(f"NAL unit {k}: a suffix picture-hash SEI before any picture")
                else:
                    cur["hash"] = ph
        elif t == 19 or (nal.is_vcl and nal.payload and nal.payload[0] & 0x80):
            rbsp = unescape(nal.payload)
            r = BitReader(rbsp)
            if t != 19:
                r.u(1)  # sh_picture_header_in_slice_header_flag
            cur = {"index": len(raw), "nal_type": None, "tid": nal.temporal_id, "hash": pending_prefix,
                   "offset": nal.offset - nal.start_code, "size": 0, "end": 0, "after_eos": after_eos,
                   **_picture_header(r, pps_sps, sps_poc)}
            raw.append(cur)
            pending_prefix, after_eos = None, False
            if t != 19:
                cur["nal_type"] = t
        if cur is not None and (t == 19 or nal.is_vcl):
            if nal.is_vcl and cur["nal_type"] is None:
                cur["nal_type"] = t
            cur["size"] += nal.size + nal.start_code
        if cur is not None and (nal.is_vcl or t in (18, 24, 25)):
            cur["end"] = nal.offset + nal.size
    return _derive_poc(raw)


def _derive_poc(raw: list[dict[str, Any]]) -> list[PictureUnit]:
    out: list[PictureUnit] = []
    clvs = -1
    prev_tid0 = 0
    cra_starts_clvs = False  # the IRAP of the current picture's associated IRAP is a CRA starting a CLVS
    for k, p in enumerate(raw):
        t = p["nal_type"]
        if t is None:
            raise BitstreamError(f"picture {k} has a picture header but no slice")
        irap_gdr = t in (7, 8, 9, 10)
        clvss = t in (7, 8) or (irap_gdr and (k == 0 or p["after_eos"]))
        if k == 0 and not irap_gdr:
            raise BitstreamError(f"the stream starts with a {NAL_TYPES.get(t)} picture, not an IRAP or GDR picture")
        max_lsb, lsb = p["max_lsb"], p["lsb"]
        if p["msb_cycle"] is not None:
            msb = p["msb_cycle"] * max_lsb
        elif clvss:
            msb = 0
        else:
            prev_lsb = prev_tid0 & (max_lsb - 1)
            prev_msb = prev_tid0 - prev_lsb
            if lsb < prev_lsb and prev_lsb - lsb >= max_lsb // 2:
                msb = prev_msb + max_lsb
            elif lsb > prev_lsb and lsb - prev_lsb > max_lsb // 2:
                msb = prev_msb - max_lsb
            else:
                msb = prev_msb
        poc = msb + lsb
        if clvss:
            clvs += 1
        if t in (7, 8, 9, 10, 11):
            cra_starts_clvs = clvss and t == 9
        if p["tid"] == 0 and not p["non_ref"] and t not in (2, 3):
            prev_tid0 = poc
        out.append(PictureUnit(k, t, p["tid"], p["non_ref"], poc, clvs, not (t == 3 and cra_starts_clvs),
                               p["hash"], p["offset"], p["size"], p["end"]))
    return out


def output_order(units: list[PictureUnit]) -> list[PictureUnit]:
    """The pictures a decoder outputs, in output order: by CLVS, then POC (an IRAP that starts a CLVS
    outputs every earlier picture first; no_output_of_prior_pics and ph_pic_output_flag = 0, which
    neither VTM nor VVenC write, are not modelled).  Two output pictures with one POC in one CLVS
    raise :class:`BitstreamError`."""
    shown = sorted((u for u in units if u.output), key=lambda u: (u.clvs, u.poc))
    for a, b in zip(shown, shown[1:]):
        if (a.clvs, a.poc) == (b.clvs, b.poc):
            raise BitstreamError(f"pictures {a.index} and {b.index} (decoding order) both have POC {a.poc}")
    return shown
