"""``CurveSet``: the rate-quality curves of one ``bdrate`` / ``report`` input (read by ``report.inputs``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .summaries import point_name

Key = tuple  # (group: str | None, scale: float | None)


@dataclass
class CurveSet:
    """Curves of one input, keyed by ``(group, scale)`` (None where the input has no such column)."""

    source: str
    label: str
    rate_name: str
    quality_name: str
    curves: dict[Key, list[tuple[float, float]]]
    signature: str = ""
    condition: str = ""
    result_set: object | None = None  # the records.ResultSet when read from one
    notes: list[str] = field(default_factory=list)
    qps: dict[Key, list[int | None]] = field(default_factory=dict)  # per curve, the QP of each point
    scales: dict[Key, list[float | None]] = field(default_factory=dict)  # per curve, each point's scale if known
    levels: dict[str | None, str] = field(default_factory=dict)  # video: group -> "class" | "sequence"
    point_labels: dict[Key, list[str]] = field(default_factory=dict)  # how messages name each point, where not by QP

    @property
    def video(self) -> bool:
        """Curves of video classes and sequences (a video result set, or a CSV with ``CLASS-`` rows)."""
        return "class" in self.levels.values()

    def class_groups(self) -> list[str]:
        return [g for g in self.groups() if g is not None and self.levels.get(g) == "class"]

    def groups(self) -> list[str | None]:
        return list(dict.fromkeys(k[0] for k in self.curves))

    def point_names(self, key: Key) -> list[str] | None:
        """Each point of curve ``key`` named by scale and QP (``scale 75 % QP 37``) for messages; None when
        the input has no QP column."""
        if key in self.point_labels:
            return list(self.point_labels[key])
        qps = self.qps.get(key) or []
        if not qps or any(q is None for q in qps):
            return None
        scales = self.scales.get(key) or [key[1]] * len(qps)
        return [point_name(s, q) for s, q in zip(scales, qps)]
