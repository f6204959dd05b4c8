"""VVC decoders: FFmpeg's native decoder (subprocess), PyAV (libavcodec, isolated worker),
VTM's DecoderApp, and any user decoder given as a command template.

All write the decoded pictures as a planar YUV file at the requested output bit depth
(``bit_depth``, 10 by default: 16-bit little-endian samples; a lower coded depth is shifted
left as VTM's ``-d 10`` does), frames one after another, 4:0:0 as luma only (the layout of
VTM's DecoderApp).  A decoder that fails, times out, or produces no/short output raises
:class:`BitstreamError` whose message is the reason ("not decodable: ..." is added by verify).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ...core.errors import BitstreamError, CodecError, UsageError
from ...core.hashing import file_hash
from ...core.process import register_group, run_process, unregister_group, write_log
from ...core.registry import Registry
from ..ffmpeg import ffmpeg_exe, ffmpeg_version
from ..yuv import YuvFormat, planes_from_bytes, to_bit_depth
from .base import DecodeResult
from .vtm_apps import decoder_command, find_vtm_binary, vtm_banner_version


class Decoder(ABC):
    """A VVC decoder.  ``crop=False`` asks for the full coded picture (for SEI hash checks);
    decoders that cannot do that raise :class:`UsageError`."""

    name: str = "decoder"

    @abstractmethod
    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 60.0,
               crop: bool = True, log_path: Path | None = None) -> DecodeResult: ...

    @abstractmethod
    def version(self) -> str: ...

    def available(self) -> tuple[bool, str]:
        try:
            self.version()
        except Exception as exc:  # noqa: BLE001 - reported
            return False, str(exc)
        return True, ""


DECODERS: Registry[Callable[..., Decoder]] = Registry("decoder", "vcmbench codecs")


def get_decoder(spec: str, **options) -> Decoder:
    """A decoder by name (``ffmpeg``, ``pyav``, ``vtm``) or a command template containing
    ``{input}`` and ``{output}`` (e.g. ``"vvdecapp -b {input} -o {output}"``)."""
    if "{input}" in spec or "{output}" in spec:
        return CommandDecoder(spec)
    return DECODERS.get(spec)(**options)


def decoder_names() -> list[str]:
    return DECODERS.names()


_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")


def error_summary(stderr: bytes, limit: int = 2) -> str:
    """The first distinct messages of a tool's stderr, without FFmpeg's ``[ctx @ 0x...]`` prefixes."""
    msgs: list[str] = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        msg = _PREFIX.sub("", line.strip()).strip()
        if msg and msg not in msgs:
            msgs.append(msg)
        if len(msgs) >= limit:
            break
    return "; ".join(msgs)[:300]


def _fail(res, what: str = "") -> BitstreamError:
    if res.timed_out:
        return BitstreamError(f"timed out after {res.seconds:.1f} s" + (f" ({what})" if what else ""))
    who = f"{what} " if what else ""
    return BitstreamError(f"{who}exit status {res.returncode}: {error_summary(res.stderr) or 'no message'}")


def _write_frames(out_yuv: Path, frames: list[list[np.ndarray]], depth: int, bit_depth: int) -> None:
    from ...core.jsonio import atomic_write_bytes

    dt = np.uint8 if bit_depth == 8 else np.dtype("<u2")
    buf = b"".join(np.ascontiguousarray(p.astype(dt)).tobytes()
                   for planes in frames for p in to_bit_depth(planes, depth, bit_depth))
    atomic_write_bytes(out_yuv, buf)


def _convert_depth(path: Path, fmt: YuvFormat, frames: int, bit_depth: int) -> None:
    """Rewrite the planar file ``path`` (``frames`` frames of ``fmt``) at ``bit_depth``, frame by frame."""
    tmp = path.with_name(path.name + ".part")
    dt = np.uint8 if bit_depth == 8 else np.dtype("<u2")
    try:
        with open(path, "rb") as fh, open(tmp, "wb") as out:
            for _ in range(frames):
                planes = planes_from_bytes(fh.read(fmt.frame_bytes), fmt)
                for p in to_bit_depth(planes, fmt.bit_depth, bit_depth):
                    out.write(np.ascontiguousarray(p.astype(dt)).tobytes())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -------------------------------------------------------------------------------- y4m

_Y4M_C = {"420jpeg": (420, 8), "420paldv": (420, 8), "420mpeg2": (420, 8), "420": (420, 8),
          "420p10": (420, 10), "mono": (400, 8), "mono10": (400, 10), "444": (444, 8), "444p10": (444, 10)}


def parse_y4m(data: bytes) -> tuple[YuvFormat, list[list[np.ndarray]]]:
    """Split a YUV4MPEG2 stream into its format and frames of planes."""
    nl = data.find(b"\n")
    if not data.startswith(b"YUV4MPEG2 ") or nl < 0:
        raise BitstreamError("the decoder wrote no picture")
    params = {t[:1]: t[1:] for t in data[10:nl].decode("ascii", "replace").split()}
    c = params.get("C", "420jpeg")
    if c not in _Y4M_C:
        raise BitstreamError(f"decoded colour format {c!r} is not supported")
    chroma, depth = _Y4M_C[c]
    fmt = YuvFormat(int(params["W"]), int(params["H"]), chroma, depth)
    frames, pos, fb = [], nl + 1, fmt.frame_bytes
    while pos < len(data):
        eol = data.find(b"\n", pos)
        if eol < 0 or not data.startswith(b"FRAME", pos):
            raise BitstreamError("malformed decoder output")
        pos = eol + 1
        if pos + fb > len(data):
            raise BitstreamError("decoder output ends inside a picture")
        frames.append(planes_from_bytes(data[pos:pos + fb], fmt))
        pos += fb
    if not frames:
        raise BitstreamError("the decoder returned no picture")
    return fmt, frames


def y4m_to_yuv(src: Path, out_yuv: Path, bit_depth: int) -> tuple[YuvFormat, int]:
    """Convert the YUV4MPEG2 file ``src`` into the planar file ``out_yuv`` at ``bit_depth``, one frame at a
    time (a whole sequence can be gigabytes); returns (the decoded format, frames).  Written to a
    temporary file then renamed; malformed input raises :class:`BitstreamError`."""
    tmp = out_yuv.with_name(out_yuv.name + ".part")
    try:
        with open(src, "rb") as fh, open(tmp, "wb") as out:
            head = fh.readline(4096)
            if not head.startswith(b"YUV4MPEG2 ") or not head.endswith(b"\n"):
                raise BitstreamError("the decoder wrote no picture")
            params = {t[:1]: t[1:] for t in head[10:-1].decode("ascii", "replace").split()}
            c = params.get("C", "420jpeg")
            if c not in _Y4M_C:
                raise BitstreamError(f"decoded colour format {c!r} is not supported")
            chroma, depth = _Y4M_C[c]
            fmt = YuvFormat(int(params["W"]), int(params["H"]), chroma, depth)
            dt = np.uint8 if bit_depth == 8 else np.dtype("<u2")
            n = 0
            while True:
                line = fh.readline(4096)
                if not line:
                    break
                if not line.startswith(b"FRAME") or not line.endswith(b"\n"):
                    raise BitstreamError("malformed decoder output")
                data = fh.read(fmt.frame_bytes)
                if len(data) != fmt.frame_bytes:
                    raise BitstreamError("decoder output ends inside a picture")
                if depth == bit_depth:
                    out.write(data)
                else:
                    for p in to_bit_depth(planes_from_bytes(data, fmt), depth, bit_depth):
                        out.write(np.ascontiguousarray(p.astype(dt)).tobytes())
                n += 1
        if n == 0:
            raise BitstreamError("the decoder returned no picture")
        os.replace(tmp, out_yuv)
    finally:
        tmp.unlink(missing_ok=True)
    return fmt, n


# -------------------------------------------------------------------------------- FFmpeg


@DECODERS.register("ffmpeg")
class FFmpegDecoder(Decoder):
    """FFmpeg's native VVC decoder (the FFmpeg of imageio-ffmpeg, or ``VCMBENCH_FFMPEG``) in a
    subprocess.  Input is forced to the raw ``vvc`` demuxer; any decoding error is fatal
    (``-err_detect bitstream+buffer+explode -xerror``) instead of being concealed.  FFmpeg's own
    picture-hash check (``crccheck``) is left off: verify checks the SEI itself and reports a
    wrong hash as a hash mismatch, not as an undecodable stream."""

    name = "ffmpeg"

    def command(self, bitstream: Path, crop: bool = True, output: str = "pipe:1") -> list[str]:
        return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-threads", "1",
                "-err_detect", "+bitstream+buffer+explode", "-apply_cropping", "1" if crop else "0",
                "-f", "vvc", "-i", str(bitstream), "-xerror", "-f", "yuv4mpegpipe", "-strict", "-1", "-y", output]

    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 60.0,
               crop: bool = True, log_path: Path | None = None) -> DecodeResult:
        """FFmpeg writes YUV4MPEG2 to a file beside ``out_yuv``, converted frame by frame (never all pictures
        of a long sequence in memory)."""
        out_yuv = Path(out_yuv)
        y4m = out_yuv.with_name(out_yuv.name + ".y4m")
        cmd = self.command(bitstream, crop, str(y4m))
        try:
            res = run_process(cmd, timeout=timeout)
            size = y4m.stat().st_size if y4m.is_file() else 0
            if log_path is not None:
                write_log(log_path, dataclasses.replace(res, stdout=b"<decoded pictures: %d bytes>" % size))
            if not res.ok:
                raise _fail(res)
            if res.stderr.strip():
                raise BitstreamError(f"ffmpeg reported errors: {error_summary(res.stderr)}")
            fmt, _ = y4m_to_yuv(y4m, out_yuv, bit_depth)
        finally:
            y4m.unlink(missing_ok=True)
        return DecodeResult(out_yuv, _out_fmt(fmt, bit_depth), res.seconds, cmd)

    def version(self) -> str:
        return f"ffmpeg-{ffmpeg_version()}"

    def signature(self) -> str:
        return f"{self.version()}#{file_hash(ffmpeg_exe())}"


def _out_fmt(fmt: YuvFormat, bit_depth: int) -> YuvFormat:
    return YuvFormat(fmt.width, fmt.height, fmt.chroma, bit_depth)


# -------------------------------------------------------------------------------- PyAV


def _answer_error(ans: dict) -> Exception:
    """The PyAV worker's refusal: an ``OSError`` (re-raised as one, so that a full disk is a storage fault
    and never a verdict) when it could not read or write a file, else the stream's :class:`BitstreamError`."""
    code = ans.get("errno")
    if isinstance(code, int):
        return OSError(code, f"{os.strerror(code)}: the PyAV decoder {ans.get('error')}")
    return BitstreamError(str(ans.get("error")))


@lru_cache(maxsize=None)
def pyav_version() -> str:
    try:
        import av
    except ImportError:
        raise CodecError("PyAV is not installed: `pip install av`.") from None
    lav = av.library_versions.get("libavcodec", ())
    return f"pyav-{av.__version__}/libavcodec-{'.'.join(map(str, lav))}"


class _PyAVServer:
    """One persistent PyAV worker process (``pyav_worker --serve``) per parent process, killed and
    restarted after a timeout or a crash.  Requests are serialised by a lock."""

    command = [sys.executable, "-m", "vcmbench.coding.codecs.pyav_worker", "--serve"]
    _lock = threading.Lock()
    _proc: subprocess.Popen | None = None
    _owner: int | None = None
    _buf = b""

    @classmethod
    def _start(cls) -> subprocess.Popen:
        proc = subprocess.Popen(list(cls.command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        cls._proc, cls._owner, cls._buf = proc, os.getpid(), b""
        register_group(proc.pid, cls.command, record=False)  # ends when this process does (its stdin closes)
        ready = cls._readline(proc, 60.0)
        if not ready or b"ready" not in ready:
            cls._reset()
            raise CodecError("The PyAV worker process did not start (is PyAV installed? `pip install av`).")
        return proc

    @classmethod
    def _reset(cls) -> None:
        proc, cls._proc, cls._buf = cls._proc, None, b""
        if proc is not None and cls._owner == os.getpid():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
            unregister_group(proc.pid)

    @classmethod
    def _readline(cls, proc: subprocess.Popen, timeout: float) -> bytes | None:
        """One line from the worker; b"" on EOF (it died), None on timeout."""
        import select

        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        while b"\n" not in cls._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return b""
            cls._buf += chunk
        line, cls._buf = cls._buf.split(b"\n", 1)
        return line

    @classmethod
    def request(cls, req: dict, timeout: float) -> tuple[dict | None, str | None, float]:
        with cls._lock:
            if cls._proc is None or cls._owner != os.getpid() or cls._proc.poll() is not None:
                cls._proc = None
                cls._start()
            proc = cls._proc
            assert proc is not None and proc.stdin is not None
            t0 = time.perf_counter()
            try:
                proc.stdin.write((json.dumps(req) + "\n").encode())
                proc.stdin.flush()
            except OSError:
                cls._reset()
                return None, "the decoder process died", time.perf_counter() - t0
            line = cls._readline(proc, timeout)
            seconds = time.perf_counter() - t0
            if line is None:
                cls._reset()
                return None, f"timed out after {timeout:.1f} s", seconds
            if line == b"":
                rc = proc.wait()
                cls._reset()
                how = f"signal {-rc}" if rc < 0 else f"status {rc}"
                return None, f"the decoder process crashed ({how})", seconds
            try:
                return json.loads(line), None, seconds
            except json.JSONDecodeError:
                cls._reset()
                return None, "the decoder process answered garbage", seconds


@DECODERS.register("pyav")
class PyAVDecoder(Decoder):
    """libavcodec's VVC decoder through PyAV.  ``isolate=True`` (default) runs it in a child
    Python process under the timeout, so a decoder hang or crash on a corrupted stream can
    neither hang nor kill the caller: ``persistent=True`` (default) reuses one worker process
    (restarted after a timeout or crash), ``persistent=False`` starts one per bitstream.
    ``isolate=False`` decodes in this process (trusted input only)."""

    name = "pyav"

    def __init__(self, isolate: bool = True, persistent: bool = True) -> None:
        self.isolate = isolate
        self.persistent = persistent

    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 60.0,
               crop: bool = True, log_path: Path | None = None) -> DecodeResult:
        bitstream, out_yuv = Path(bitstream), Path(out_yuv)
        if not self.isolate:
            from .pyav_worker import PIX_FMTS, decode_planes

            t0 = time.perf_counter()
            data = bitstream.read_bytes()  # an OSError here is the disk's, not the stream's
            try:
                pix_fmt, frames = decode_planes(data, crop)
            except Exception as exc:  # noqa: BLE001 - libav errors become the verdict reason
                raise BitstreamError(f"{type(exc).__name__}: {exc}") from None
            if not frames:
                raise BitstreamError("the decoder returned no picture")
            chroma, depth = PIX_FMTS[pix_fmt]
            _write_frames(out_yuv, frames, depth, bit_depth)
            h, w = frames[0][0].shape
            return DecodeResult(out_yuv, YuvFormat(w, h, chroma, bit_depth), time.perf_counter() - t0,
                                ["pyav(in-process)", str(bitstream)])
        if self.persistent:
            req = {"src": str(bitstream.resolve()), "dst": str(out_yuv.resolve()), "bit_depth": bit_depth, "crop": crop}
            out_yuv.parent.mkdir(parents=True, exist_ok=True)
            ans, problem, seconds = _PyAVServer.request(req, timeout)
            if problem:
                raise BitstreamError(problem)
            assert ans is not None
            if not ans.get("ok"):
                raise _answer_error(ans)
            fmt = YuvFormat(ans["width"], ans["height"], ans["chroma"], bit_depth)
            return DecodeResult(out_yuv, fmt, seconds, ["pyav-worker", str(bitstream)])
        cmd = [sys.executable, "-m", "vcmbench.coding.codecs.pyav_worker", str(bitstream), str(out_yuv),
               str(bit_depth), "1" if crop else "0"]
        env = dict(os.environ, PYTHONFAULTHANDLER="0")
        res = run_process(cmd, timeout=timeout, log_path=log_path, env=env)
        lines = res.stdout.decode("utf-8", "replace").strip().splitlines()
        info = None
        if lines:
            try:
                info = json.loads(lines[-1])
            except json.JSONDecodeError:
                info = None
        if res.timed_out or info is None:
            if res.returncode is not None and res.returncode < 0:
                raise BitstreamError(f"the decoder process crashed (signal {-res.returncode})")
            raise _fail(res)
        if not info.get("ok"):
            raise _answer_error(info)
        fmt = YuvFormat(info["width"], info["height"], info["chroma"], bit_depth)
        return DecodeResult(out_yuv, fmt, res.seconds, cmd)

    def version(self) -> str:
        return pyav_version()

    def signature(self) -> str:
        return self.version()


# -------------------------------------------------------------------------------- VTM and user commands


def _sps_format(bitstream: Path) -> YuvFormat:
    from ..bitstream import read_bitstream

    sps = read_bitstream(bitstream).sps
    assert sps is not None
    if sps.chroma_format not in (400, 420, 444):
        raise BitstreamError(f"chroma format {sps.chroma_format} is not supported")
    return YuvFormat(sps.width, sps.height, sps.chroma_format, sps.bit_depth)


def _check_output(out_yuv: Path, fmt: YuvFormat, what: str) -> int:
    try:
        size = out_yuv.stat().st_size
    except FileNotFoundError:
        raise BitstreamError(f"{what} wrote no output file") from None
    if size == 0 or size % fmt.frame_bytes:
        raise BitstreamError(f"{what} wrote {size} bytes, not a whole number of {fmt.describe()} pictures "
                             f"({fmt.frame_bytes} bytes each)")
    return size // fmt.frame_bytes


@DECODERS.register("vtm")
class VTMDecoder(Decoder):
    """VTM's DecoderApp (``vtm_dir`` or ``VCMBENCH_VTM_DIR``): ``DecoderApp -b IN -o OUT -d BITDEPTH``."""

    name = "vtm"

    def __init__(self, vtm_dir: str | os.PathLike | None = None, decoder_app: str | None = None) -> None:
        self.exe = Path(decoder_app) if decoder_app else find_vtm_binary("DecoderApp", vtm_dir)

    def command(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10) -> list[str]:
        return decoder_command(self.exe, bitstream, out_yuv, bit_depth)

    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 60.0,
               crop: bool = True, log_path: Path | None = None) -> DecodeResult:
        if not crop:
            raise UsageError("The VTM decoder always applies the conformance window; use ffmpeg or pyav for crop=False.")
        fmt = _sps_format(bitstream)
        cmd = self.command(bitstream, out_yuv, bit_depth)
        res = run_process(cmd, timeout=timeout, log_path=log_path)
        if not res.ok:
            raise _fail(res, "DecoderApp")
        out = _out_fmt(fmt, bit_depth)
        _check_output(Path(out_yuv), out, "DecoderApp")
        return DecodeResult(Path(out_yuv), out, res.seconds, cmd)

    def version(self) -> str:
        return f"vtm-{vtm_banner_version(self.exe)}"

    def signature(self) -> str:
        return f"{self.version()}#{file_hash(str(self.exe))}"


class CommandDecoder(Decoder):
    """Any decoder as a command template with ``{input}`` and ``{output}`` (and optionally
    ``{bitdepth}``/``{bit_depth}``, ``{width}``, ``{height}``, ``{chroma}``) placeholders, split like a
    shell line but run as an argument list.  The output is expected at ``{bitdepth}`` when the
    template names it, else at the coded bit depth; its size is checked against the SPS (or, for a
    stream that is not VVC, against ``fmt``, the format the encoder was given)."""

    name = "command"

    def __init__(self, template: str, fmt: YuvFormat | None = None) -> None:
        if "{input}" not in template or "{output}" not in template:
            raise UsageError(f"Decoder command template {template!r} needs both {{input}} and {{output}}.")
        self.template = template.replace("{bit_depth}", "{bitdepth}")
        self.args = shlex.split(self.template)
        self.fmt = fmt

    def command(self, bitstream: Path, out_yuv: Path, bit_depth: int) -> list[str]:
        fmt = self.fmt
        subs = {"{input}": str(bitstream), "{output}": str(out_yuv), "{bitdepth}": str(bit_depth)}
        if fmt is not None:
            subs.update({"{width}": str(fmt.width), "{height}": str(fmt.height), "{chroma}": str(fmt.chroma)})
        out = []
        for a in self.args:
            for k, v in subs.items():
                a = a.replace(k, v)
            out.append(a)
        return out

    def decode(self, bitstream: Path, out_yuv: Path, bit_depth: int = 10, timeout: float = 60.0,
               crop: bool = True, log_path: Path | None = None) -> DecodeResult:
        if not crop:
            raise UsageError("A command-template decoder cannot be asked for uncropped output.")
        fmt = self.fmt if self.fmt is not None else _sps_format(bitstream)
        has_bd = "{bitdepth}" in self.template
        out_depth = bit_depth if has_bd else fmt.bit_depth
        cmd = self.command(bitstream, out_yuv, bit_depth)
        res = run_process(cmd, timeout=timeout, log_path=log_path)
        if not res.ok:
            raise _fail(res, cmd[0])
        written = YuvFormat(fmt.width, fmt.height, fmt.chroma, out_depth)
        n = _check_output(Path(out_yuv), written, cmd[0])
        if out_depth != bit_depth:
            _convert_depth(Path(out_yuv), written, n, bit_depth)
        return DecodeResult(Path(out_yuv), _out_fmt(fmt, bit_depth), res.seconds, cmd)

    def version(self) -> str:
        return f"command:{self.args[0]}"

    def signature(self) -> str:
        exe = self.args[0]
        path = exe if os.path.isfile(exe) else None
        if path is None:
            import shutil

            path = shutil.which(exe)
        return f"{Path(exe).name}#{file_hash(path)}" if path else Path(exe).name
