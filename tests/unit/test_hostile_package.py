"""Corrupt cross-check zips get a verdict (exit 2) and leave nothing behind (issue 13): a bad CRC, a bad
local header and a lying size raised BadZipFile with the files extracted so far left in place;
member names over 255 bytes raised OSError."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from vcmbench.crosscheck.package import PackageRefused, extract_zip

from ._hostile import invoke


def _zip(path: Path, entries: dict[str, bytes], method=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


ENTRIES = {"manifest.json": b'{"vcmbench_crosscheck": 1}', "bitstreams/a.266": b"A" * 4000,
           "bitstreams/b.266": b"B" * 4000}


def _bad_crc(z: Path) -> None:
    data = bytearray(z.read_bytes())
    i = data.find(b"B" * 100)
    data[i + 10] ^= 0xFF  # payload changed, CRC kept
    z.write_bytes(bytes(data))


def _bad_header(z: Path) -> None:
    data = bytearray(z.read_bytes())
    i = data.find(b"PK\x03\x04", data.find(b"A" * 100))  # the local header of the third entry
    data[i: i + 4] = b"XX\x03\x04"
    z.write_bytes(bytes(data))


def _lying_size(z: Path) -> None:
    data = bytearray(z.read_bytes())
    cd = data.rfind(b"PK\x01\x02")  # the last central-directory entry (bitstreams/b.266)
    data[cd + 24: cd + 28] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(data))


def _bad_deflate(z: Path) -> None:
    data = bytearray(z.read_bytes())
    i = data.find(b"bitstreams/b.266") + len("bitstreams/b.266")
    data[i: i + 8] = b"\xff" * 8
    z.write_bytes(bytes(data))


@pytest.mark.parametrize("damage,method", [(_bad_crc, zipfile.ZIP_STORED), (_bad_header, zipfile.ZIP_STORED),
                                           (_lying_size, zipfile.ZIP_STORED), (_bad_deflate, zipfile.ZIP_DEFLATED)])
def test_corrupt_zip_is_refused_and_nothing_is_left(damage, method, tmp_path):
    z = _zip(tmp_path / "p.zip", ENTRIES, method)
    damage(z)
    with pytest.raises(PackageRefused):
        extract_zip(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    work = tmp_path / "work"
    r = invoke(["crosscheck", z, "--work-dir", work, "-o", tmp_path / "r.html"])
    assert r.exit_code == 2 and ("corrupt" in r.output or "declares" in r.output or "zip" in r.output), r.output
    assert not (tmp_path / "r.html").exists()
    assert not list(work.rglob("*.266")) if work.exists() else True


def test_member_names_over_255_bytes_are_refused(tmp_path):
    z = _zip(tmp_path / "p.zip", {"manifest.json": b"{}", "bitstreams/" + "x" * 256 + ".266": b"1"})
    with pytest.raises(PackageRefused, match="255 bytes"):
        extract_zip(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    z2 = _zip(tmp_path / "q.zip", {"manifest.json": b"{}", "é" * 130: b"1"})  # 260 bytes in UTF-8
    with pytest.raises(PackageRefused, match="255 bytes"):
        extract_zip(z2, tmp_path / "out2")


