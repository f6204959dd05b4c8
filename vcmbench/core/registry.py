"""One small typed registry per extension point (codecs, task networks, metrics, BD methods)."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from .errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object, filled by the ``register`` decorator; duplicates are refused.

    ``kind`` names the extension point in error messages, ``hint`` names the command that lists it.
    """

    def __init__(self, kind: str, hint: str = "") -> None:
        self.kind = kind
        self.hint = hint
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        if name in self._items:
            raise RegistryError(f"Duplicate {self.kind} name {name!r}: it is already registered.")
        self._items[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            avail = ", ".join(sorted(self._items)) or "(none)"
            hint = f" — see `{self.hint}`" if self.hint else ""
            raise RegistryError(f"Unknown {self.kind} {name!r}. Available: {avail}{hint}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
