"""Tiny, realistic result sets for BD/report tests (numbers shaped like VCM OIV6 anchors)."""

from __future__ import annotations

from vcmbench.core.records import RatePoint, ResultSet

QPS = (22, 27, 32, 37, 42, 47)
ANCHOR_SIG = "cttc:vcm-oiv6-det@1|codec:vtm-12.0#3f2a|cfg:ai|qp:22-47|task:frcnn-x101|map:oid|rate:bpp|gt:oid-v6|v:0.1.0"
TEST_SIG = "cttc:vcm-oiv6-det@1|codec:vvenc-1.15#9b1c|cfg:medium|qp:22-47|task:frcnn-x101|map:oid|rate:bpp|gt:oid-v6|v:0.1.0"

# (scale, qp) -> (bpp, mAP) ; realistic magnitudes for OpenImages 5k detection
_ANCHOR = {
    1.0: [(1.52, 0.781), (0.91, 0.775), (0.50, 0.760), (0.25, 0.731), (0.11, 0.672), (0.045, 0.561)],
    0.5: [(0.48, 0.742), (0.28, 0.733), (0.15, 0.711), (0.072, 0.668), (0.031, 0.590), (0.013, 0.452)],
}


def _points(table: dict, rate_factor: float = 1.0, q_shift: float = 0.0, images: int = 5000) -> list[RatePoint]:
    pts = []
    for scale, rows in table.items():
        for qp, (bpp, m) in zip(QPS, rows):
            pixels = int(images * 1024 * 683 * 1.0)
            bits = int(round(bpp * rate_factor * pixels))
            pts.append(RatePoint(scale=scale, qp=qp, bits=bits, pixels=pixels, bpp=bits / pixels,
                                 accuracy={"map50_oid": m + q_shift}, images=images,
                                 encode_seconds=41.0 * scale * (50 - qp), decode_seconds=0.2 * scale,
                                 task_seconds=1.5))
    return pts


def make_anchor(condition: str = "vcm-oiv6-det", label: str = "VTM-12.0 anchor") -> ResultSet:
    return ResultSet(condition=condition, codec="vtm-12.0", label=label, quality_key="map50_oid",
                     points=_points(_ANCHOR), signature=ANCHOR_SIG.replace("vcm-oiv6-det", condition),
                     metric="OID challenge mAP@0.5", dataset="OpenImages V6 5k detection",
                     provenance={"run_dir": "/runs/anchor", "commands": ["EncoderApp -c encoder_intra_vtm.cfg -q 22"],
                                 "env": {"codec": "VTM 12.0", "python": "3.11"}})


def make_test(condition: str = "vcm-oiv6-det", label: str = "VVenC medium", rate_factor: float = 0.9,
              q_shift: float = 0.0, signature: str | None = None) -> ResultSet:
    return ResultSet(condition=condition, codec="vvenc-1.15", label=label, quality_key="map50_oid",
                     points=_points(_ANCHOR, rate_factor, q_shift),
                     signature=signature or TEST_SIG.replace("vcm-oiv6-det", condition),
                     metric="OID challenge mAP@0.5", dataset="OpenImages V6 5k detection",
                     provenance={"run_dir": "/runs/test", "commands": ["vcmbench run --condition vcm-oiv6-det"],
                                 "env": {"codec": "VVenC 1.15"}})
