"""`vcmbench codecs`, `vcmbench bitstream info`, `vcmbench verify`, `vcmbench conformance run`."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.errors import EXIT_NOT_VERIFIED, UsageError
from .common import echo_json, executor_options, exit_with, progress_for, table
from .params import POSITIVE_INT, TIMEOUT, VTM_DIR, RegularFile

_VTM_DIR = click.option("--vtm-dir", envvar="VCMBENCH_VTM_DIR", type=VTM_DIR,
                        help="Folder with VTM EncoderApp/DecoderApp (or set VCMBENCH_VTM_DIR).")


@click.command("codecs")
@_VTM_DIR
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def codecs_cmd(vtm_dir: str | None, as_json: bool) -> None:
    """List the codecs and decoders, with their versions and signatures (or why unavailable).

    \b
    Example:
      vcmbench codecs
      vcmbench codecs --vtm-dir /opt/VTM-12.0/bin --json
    """
    from ..coding.codecs import codec_names, decoder_names, get_codec, get_decoder

    def probe(kind: str, name: str) -> dict:
        opts = {"vtm_dir": vtm_dir} if name == "vtm" else {}
        try:
            obj = get_codec(name, **opts) if kind == "codec" else get_decoder(name, **opts)
            return {"kind": kind, "name": name, "available": True, "version": obj.version(),
                    "signature": obj.signature()}
        except Exception as exc:  # noqa: BLE001 - listed as unavailable with the reason
            return {"kind": kind, "name": name, "available": False, "reason": str(exc)}

    rows = [probe("codec", n) for n in codec_names() if n != "template"] + [probe("decoder", n) for n in decoder_names()]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["kind", "name", "available", "version / reason", "signature"],
                     [(r["kind"], r["name"], "yes" if r["available"] else "no",
                       r.get("version") or r.get("reason"), r.get("signature", "")) for r in rows]))
    click.echo("\nAny other decoder: give a command template, e.g. --decoder \"vvdecapp -b {input} -o {output}\".")
    click.echo("Any other codec: give encode/decode command templates in the condition's codec section (README 'Codecs').")


@click.group("bitstream")
def bitstream() -> None:
    """Inspect VVC bitstreams (pure-Python Annex-B / SPS / SEI parser).

    \b
    Example:
      vcmbench bitstream info picture.266
    """


@bitstream.command("info")
@click.argument("file", type=RegularFile())
@click.option("--json", "as_json", is_flag=True, help="Print JSON (all NAL units included).")
def info_cmd(file: str, as_json: bool) -> None:
    """Show NAL units, SPS fields (size, conformance window, chroma format, bit depth,
    profile/level), decoded-picture-hash SEI and bytes per NAL type of FILE.

    \b
    Example:
      vcmbench bitstream info picture.266 --json
    """
    from ..coding.bitstream import read_bitstream
    from ..core.errors import BitstreamError, DataError

    try:
        info = read_bitstream(file)
    except BitstreamError as exc:  # a file that is not a VVC bitstream is bad input here (exit 2)
        raise DataError(f"{file}: {exc}. Give an Annex-B VVC bitstream (.266/.vvc).") from None
    if as_json:
        echo_json({"file": file, **info.to_dict()})
        return
    sps = info.sps
    assert sps is not None
    click.echo(f"{file}: {info.size} bytes, {info.nal_count} NAL units, {info.pictures} picture(s)")
    click.echo(f"  size {sps.width}x{sps.height} (coded {sps.coded_width}x{sps.coded_height}, conformance window "
               f"L{sps.conf_win[0]} R{sps.conf_win[1]} T{sps.conf_win[2]} B{sps.conf_win[3]})")
    click.echo(f"  chroma {sps.chroma_format}, {sps.bit_depth}-bit, CTU {sps.ctu_size}, profile {sps.profile}, "
               f"tier {sps.tier}, level {sps.level}")
    for h in info.picture_hashes:
        click.echo(f"  picture hash SEI ({h.hash_type}): {', '.join(h.values)}")
    click.echo(table(["NAL type", "count", "bytes"],
                     [(k, info.count_per_type[k], v) for k, v in info.bytes_per_type.items()]))


def expand_decoders(choice: tuple[str, ...] | list[str], vtm_dir: str | None, default: str = "pyav") -> list[str]:
    """The decoders a repeatable ``--decoder`` names; ``all`` = ffmpeg, pyav and vtm when VTM is found.

    ``all`` without VTM warns on stderr (VTM's DecoderApp is the reference decoder) and says what runs.
    """
    import os

    if vtm_dir:
        os.environ["VCMBENCH_VTM_DIR"] = vtm_dir
    out: list[str] = []
    for d in choice or (default,):
        if d == "all":
            has_vtm = bool(os.environ.get("VCMBENCH_VTM_DIR"))
            out += ["ffmpeg", "pyav"] + (["vtm"] if has_vtm else [])
            if not has_vtm:
                click.echo("warning: --decoder all: VTM (the reference decoder) is not installed, so it is left out; "
                           "give --vtm-dir DIR or set VCMBENCH_VTM_DIR to include it.", err=True)
        else:
            out.append(d)
    out = list(dict.fromkeys(out))
    if "all" in (choice or ()):
        click.echo(f"decoders: {', '.join(out)}", err=True)
    return out


_decoders = expand_decoders


@click.command("verify")
@click.argument("files", nargs=-1, required=True, type=RegularFile())
@click.option("--width", type=POSITIVE_INT, help="Expected (cropped) picture width.")
@click.option("--height", type=POSITIVE_INT, help="Expected (cropped) picture height.")
@click.option("--chroma", type=click.Choice(["420", "400", "444"]), help="Expected chroma format.")
@click.option("--bit-depth", type=POSITIVE_INT, help="Expected coded bit depth (also the decoded file's bit depth).")
@click.option("--md5", help="Expected MD5 of the decoded YUV file (one FILE only).")
@click.option("--recon", type=RegularFile(), help="Encoder reconstruction to compare with (one FILE only).")
@click.option("--decoder", "decoders", multiple=True,
              help="ffmpeg | pyav | vtm | all | a command template with {input} and {output}; repeatable. Default pyav.")
@click.option("--timeout", type=TIMEOUT, default=60.0, show_default=True, help="Seconds allowed per decode.")
@click.option("--keep-decoded", type=click.Path(file_okay=False), help="Folder to keep the decoded YUV files in.")
@_VTM_DIR
@executor_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON verdicts.")
def verify(files: tuple[str, ...], width: int | None, height: int | None, chroma: str | None,
           bit_depth: int | None, md5: str | None, recon: str | None, decoders: tuple[str, ...], timeout: float,
           keep_decoded: str | None, vtm_dir: str | None, ex_choice, as_json: bool) -> None:
    """Prove that each bitstream decodes: structure, SPS format, decoder exit status and output
    size, SEI picture hash, the given MD5 / encoder reconstruction, and agreement between decoders.
    Exits 4 when any verdict is negative.

    \b
    Example:
      vcmbench verify out.266 --width 256 --height 192 --chroma 420 --bit-depth 10 --decoder all
    """
    from ..coding.verify import verify_many
    from ..coding.yuv import YuvFormat

    given = [width, height, chroma, bit_depth]
    expected = None
    if any(v is not None for v in given):
        if any(v is None for v in given):
            raise UsageError("Give all of --width, --height, --chroma and --bit-depth, or none of them.")
        expected = YuvFormat(width, height, int(chroma), bit_depth)
    if (md5 or recon) and len(files) > 1:
        raise UsageError("--md5 and --recon describe one bitstream: give a single FILE with them.")
    decs = _decoders(decoders, vtm_dir)
    calls = [{"path": f, "expected": expected, "md5": md5, "recon": Path(recon) if recon else None, "decoders": decs,
              "timeout": timeout,
              "keep_decoded": Path(keep_decoded) / (Path(f).stem + "_dec.yuv") if keep_decoded else None}
             for f in files]
    if len(calls) == 1 or ex_choice.jobs == 1 and ex_choice.executor == "local":
        verdicts = verify_many(calls)
    else:
        with ex_choice.make() as ex:
            verdicts = verify_many(calls, ex, progress_for("verify", as_json))
    if as_json:
        echo_json([v.to_dict() for v in verdicts])
    else:
        click.echo(table(["bitstream", "bits", "verdict", "decoded MD5"],
                         [(str(v.path), v.bits, v.reason, v.decoded_md5 or "") for v in verdicts]))
    if not all(v.ok for v in verdicts):
        exit_with(EXIT_NOT_VERIFIED)


@click.group("conformance")
def conformance() -> None:
    """Run decoder conformance suites (bitstreams with expected decoded MD5s).

    \b
    Example:
      vcmbench conformance run ../shared/fixtures/vtm12/manifest.json --decoder pyav
    """


@conformance.command("run")
@click.argument("suite", type=RegularFile())
@click.option("--decoder", "decoders", multiple=True,
              help="ffmpeg | pyav | vtm | all, or a command template with {input} and {output} "
                   "(and optionally {bitdepth}); repeatable (the suite runs once per decoder). Default pyav.")
@click.option("--timeout", type=TIMEOUT, default=60.0, show_default=True, help="Seconds allowed per decode.")
@_VTM_DIR
@executor_options
@click.option("-o", "--output", "outputs", multiple=True, type=click.Path(dir_okay=False),
              help="Also write the report: .json, .html or .xlsx; repeatable. With several decoders each file "
                   "name gets the decoder before its suffix (report.pyav.html).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def run_cmd(suite: str, decoders: tuple[str, ...], timeout: float, vtm_dir: str | None, ex_choice,
            outputs: tuple[str, ...], as_json: bool) -> None:
    """Decode every case of SUITE and compare with its expected MD5.  Exits 4 when a case fails.

    SUITE is a JSON/YAML file whose `cases` have bitstream, decoded_md5, width, height,
    chroma_format and bit_depth (the VTM fixture manifest is one).

    \b
    Example:
      vcmbench conformance run ../shared/fixtures/vtm12/manifest.json --decoder "vvdecapp -b {input} -o {output}" -o report.html
    """
    import re

    from ..coding.conformance import run_suite, write_report

    for o in outputs:
        if Path(o).suffix.lower() not in (".json", ".html", ".htm", ".xlsx"):
            raise UsageError(f"-o {o}: unknown report type; use a name ending in .json, .html or .xlsx.")
    decs = expand_decoders(decoders, vtm_dir)
    with ex_choice.make() as ex:
        reports = [run_suite(suite, d, timeout, executor=ex, on_done=progress_for(f"conformance {d}", as_json))
                   for d in decs]
    for rep in reports:
        for o in outputs:
            p = Path(o)
            if len(reports) > 1:
                tag = re.sub(r"[^A-Za-z0-9_.-]+", "_", rep.decoder)[:40] or "decoder"
                p = p.with_name(f"{p.stem}.{tag}{p.suffix}")
            write_report(rep, p)
    if as_json:
        echo_json(reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports])
    else:
        for rep in reports:
            click.echo(table(["case", "verdict", "seconds", "reason"],
                             [(c.name, "PASS" if c.ok else "FAIL", c.seconds, c.reason) for c in rep.cases]))
            click.echo(f"{rep.passed}/{len(rep.cases)} passed with {rep.decoder} ({rep.decoder_version})")
            for c in rep.failing():
                click.echo(f"FAILED: {c.name}: {c.reason}", err=True)
    if not all(rep.ok for rep in reports):
        exit_with(EXIT_NOT_VERIFIED)
