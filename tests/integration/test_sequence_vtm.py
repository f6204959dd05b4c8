"""VTM 12.0 sequence coding, low-delay and random-access (the VTM-12.0 cfgs, md5-checked), split at intra periods:
the join is byte-equal to VTM's own ``parcat`` on the same segments, and the joined bitstream decodes with
DecoderApp (decoded-picture-hash SEI checked on every picture) to exactly the segments' joined reconstructions,
every frame in order; the joined bitstream is byte-equal to one unsplit encode.  Needs ``--vtm-dir`` / VCMBENCH_VTM_DIR (with parcat beside EncoderApp)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.video_fixture import moving_pattern_yuv
from vcmbench.coding.codecs.vtm import VTMCodec
from vcmbench.coding.codecs.vtm_apps import find_vtm_binary
from vcmbench.coding.sequence import SequenceSettings, encode_sequence
from vcmbench.coding.yuv import YuvFormat
from vcmbench.core.process import run_process

pytestmark = [pytest.mark.integration, pytest.mark.needs_vtm]

FMT = YuvFormat(64, 64, 420, 8)


_sequence = moving_pattern_yuv


@pytest.mark.parametrize("structure, frames, ip, plan", [
    ("low-delay", 33, 16, [(0, 17), (16, 17)]),
    ("random-access", 49, 32, [(0, 33), (32, 17)]),
])
def test_vtm_split_join_equals_parcat_and_decodes_every_picture(tmp_path, vtm_dir, structure, frames, ip, plan):
    parcat = None
    for name in ("parcat", "parcatStatic"):
        try:
            parcat = find_vtm_binary(name, vtm_dir)
            break
        except Exception:  # noqa: BLE001
            continue
    if parcat is None:
        pytest.skip(f"no parcat beside EncoderApp in {vtm_dir}")
    codec = VTMCodec(vtm_dir=vtm_dir)
    src = _sequence(tmp_path / "in.yuv", frames)
    s = SequenceSettings(qp=37, fmt=FMT, frames=frames, fps=30, intra_period=ip, structure=structure,
                         sei_hash=True, timeout=600)
    r = encode_sequence(codec, src, tmp_path / "seq.266", s, log_dir=tmp_path / "logs", work_dir=tmp_path / "w")
    assert [(g["first"], g["frames"]) for g in r.segments] == plan
    assert r.join["method"] == "parcat" and r.join["poc_lsb_bits"] == 8
    cfg = Path(r.info["encoder"]["cfg"]).name
    assert cfg == {"low-delay": "encoder_lowdelay_vtm.cfg", "random-access": "encoder_randomaccess_vtm.cfg"}[structure]
    for (first, n), cmd in zip(plan, r.commands):
        assert cmd[cmd.index("-fs") + 1] == str(first) and cmd[cmd.index("-f") + 1] == str(n)
        assert f"--IntraPeriod={ip}" in cmd and "--DecodingRefreshType=1" in cmd and cmd[cmd.index("-fr") + 1] == "30"
    # an intra picture every intra period (the low-delay cfg alone would drop the intra period)
    assert [p["poc"] for p in r.info["pictures"] if p["slice"] == "I"] == list(range(0, frames, ip))

    # VTM's own parcat on the same segment files gives the same bytes
    segs = [str(tmp_path / "w" / f"segment_{k:03d}.266") for k in range(len(plan))]
    res = run_process([str(parcat), *segs, str(tmp_path / "parcat.266")], timeout=120)
    assert res.ok, res.tail()
    assert (tmp_path / "parcat.266").read_bytes() == (tmp_path / "seq.266").read_bytes()

    # DecoderApp: every picture's MD5 SEI matches, and the output is the joined reconstruction, all frames in order
    dec = find_vtm_binary("DecoderApp", vtm_dir)
    res = run_process([str(dec), "-b", str(tmp_path / "seq.266"), "-o", str(tmp_path / "dec.yuv"), "-d", "10",
                       "--SEIDecodedPictureHash=1"], timeout=300)
    log = res.text()
    assert res.ok, res.tail()
    oks = re.findall(r"\[MD5:[0-9a-f,]+,\(OK\)\]", log)
    assert len(oks) == frames and "ERROR" not in log
    decoded = (tmp_path / "dec.yuv").read_bytes()
    assert len(decoded) == frames * FMT.width * FMT.height * 3  # 10-bit 4:2:0: 1.5 samples x 2 bytes
    assert r.recon is not None and r.recon.read_bytes() == decoded
    assert [p["poc"] for p in r.info["pictures"]] == list(range(frames))

    # the split changes nothing: one unsplit encode gives the same bytes and the same reconstruction (measured
    # 2026-12-06 on the VTM-12.0 build: VTM's MCTF reads its neighbour frames from the input file with the
    # FrameSkip offset, and the shared intra picture is coded alike as CRA and as IDR)
    whole = encode_sequence(codec, src, tmp_path / "whole.266", s, log_dir=tmp_path / "logs1",
                            work_dir=tmp_path / "w1", split=False)
    assert len(whole.segments) == 1 and whole.join["method"] == "none"
    assert (tmp_path / "whole.266").read_bytes() == (tmp_path / "seq.266").read_bytes()
    assert whole.recon is not None and whole.recon.read_bytes() == decoded

    # resume: every segment reused, the same bitstream
    again = encode_sequence(codec, src, tmp_path / "seq2.266", s, log_dir=tmp_path / "logs", work_dir=tmp_path / "w")
    assert all(g["reused"] for g in again.segments)
    assert (tmp_path / "seq2.266").read_bytes() == (tmp_path / "seq.266").read_bytes()


def test_vtm_structure_cfgs_are_the_vtm_12_files(tmp_path, vtm_dir):
    from vcmbench.core.errors import CodecError

    codec = VTMCodec(vtm_dir=vtm_dir)
    assert codec.sequence_cfg("low-delay").name == "encoder_lowdelay_vtm.cfg"
    ra = codec.sequence_cfg("random-access")
    assert VTMCodec(vtm_dir=vtm_dir, cfg=ra).sequence_cfg("random-access") == ra
    other = tmp_path / "encoder_lowdelay_vtm.cfg"
    other.write_text(codec.sequence_cfg("low-delay").read_text() + "\n# edited\n")
    with pytest.raises(CodecError, match="records a23672b7bd5130bce8b954dc5eb32fb3"):
        VTMCodec(vtm_dir=vtm_dir, cfg=other).sequence_cfg("low-delay")


def test_vtm_refuses_an_intra_period_it_cannot_code(tmp_path, vtm_dir):
    """VTM 12.0 low delay (GOPSize 8) with --IntraPeriod=8 --DecodingRefreshType=1 dies with a segmentation
    fault after the second intra picture (measured on the VTM-12.0 build); 12 is not a multiple of 8."""
    from vcmbench.core.errors import UsageError

    src = _sequence(tmp_path / "in.yuv", 17)
    for ip in (8, 12):
        s = SequenceSettings(qp=37, fmt=FMT, frames=17, fps=30, intra_period=ip, structure="low-delay")
        with pytest.raises(UsageError, match=f"multiple of 8 and larger than it; got {ip}"):
            VTMCodec(vtm_dir=vtm_dir).encode_sequence(src, tmp_path / "x.266", s, tmp_path)
