"""Result signatures (DESIGN.md §4).

A signature is an ordered list of ``key:value`` parts joined by ``|``, e.g.
``cttc:vcm-oiv6-det@1|codec:vtm-12.0#3f2a|cfg:ai|qp:22-47|scale:100|task:frcnn-x101|map:oid|bd:pchip-jvet|v:0.1.0``.
Each component contributes its own part; two results are comparable only when the parts
that matter agree, and a mismatch names the part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .. import RESULTS_VERSION
from .errors import SignatureMismatch, UsageError

# Parts that must agree before two result sets may be compared (anchors, BD-rate vs anchor).
MATTERING_PARTS = ("cttc", "codec", "cfg", "task", "map", "rate", "color", "gt")

# Parts that must agree between an anchor and a test before a BD-rate between them means anything:
# same condition, task network, accuracy metric, rate definition and ground truth; codecs differ.
BD_COMPARABLE_PARTS = ("cttc", "task", "map", "rate", "gt")

_FORBIDDEN = set("|:")


def _check(text: str, what: str) -> str:
    text = str(text)
    if not text or any(c in _FORBIDDEN for c in text) or any(c.isspace() for c in text):
        raise UsageError(f"Invalid signature {what} {text!r}: it must be non-empty, without '|', ':' or spaces.")
    return text


@dataclass(frozen=True)
class Signature:
    parts: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, items: Mapping[str, object] | Iterable[tuple[str, object]] = (), **kw: object) -> "Signature":
        pairs = list(items.items() if isinstance(items, Mapping) else items) + list(kw.items())
        sig = cls()
        for k, v in pairs:
            sig = sig.with_part(k, v)
        return sig

    @classmethod
    def parse(cls, text: str) -> "Signature":
        text = text.strip()
        if not text:
            return cls()
        pairs = []
        for chunk in text.split("|"):
            key, sep, value = chunk.partition(":")
            if not sep:
                raise UsageError(f"Malformed signature part {chunk!r} in {text!r}: expected key:value.")
            pairs.append((key, value))
        return cls.of(pairs)

    def with_part(self, key: str, value: object) -> "Signature":
        """Return a copy with ``key`` set (replacing an existing part in place)."""
        key = _check(key, "key")
        value = _check(str(value), f"value for {key!r}")
        parts = list(self.parts)
        for i, (k, _) in enumerate(parts):
            if k == key:
                parts[i] = (key, value)
                return Signature(tuple(parts))
        parts.append((key, value))
        return Signature(tuple(parts))

    def merged(self, other: "Signature") -> "Signature":
        sig = self
        for k, v in other.parts:
            sig = sig.with_part(k, v)
        return sig

    def with_version(self) -> "Signature":
        return self.with_part("v", RESULTS_VERSION)

    def get(self, key: str, default: str | None = None) -> str | None:
        return dict(self.parts).get(key, default)

    def as_dict(self) -> dict[str, str]:
        return dict(self.parts)

    def differences(self, other: "Signature", keys: Iterable[str] | None = None) -> list[tuple[str, str | None, str | None]]:
        """Parts that differ: (key, self's value, other's value).  ``keys`` limits the check."""
        a, b = self.as_dict(), other.as_dict()
        names = list(keys) if keys is not None else list(dict.fromkeys([*a, *b]))
        return [(k, a.get(k), b.get(k)) for k in names if a.get(k) != b.get(k)]

    def require_comparable(self, other: "Signature", keys: Iterable[str] = MATTERING_PARTS,
                           what: str = "results") -> None:
        """Raise SignatureMismatch naming every part that matters and differs."""
        diffs = self.differences(other, keys)
        if diffs:
            detail = "; ".join(f"{k}: {x!r} vs {y!r}" for k, x, y in diffs)
            raise SignatureMismatch(
                f"Refusing to compare {what}: signature parts differ ({detail}). "
                "Re-run with matching settings, or compare only results produced under the same condition."
            )

    def __str__(self) -> str:
        return "|".join(f"{k}:{v}" for k, v in self.parts)
