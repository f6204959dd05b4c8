"""`vcmbench env`."""

from __future__ import annotations

import click

from .common import echo_json, table
from .params import VTM_DIR


@click.command("env")
@click.option("--vtm-dir", envvar="VCMBENCH_VTM_DIR", type=VTM_DIR,
              help="Folder with VTM EncoderApp/DecoderApp (or set VCMBENCH_VTM_DIR).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (what a run stores as env.json).")
def env_cmd(vtm_dir: str | None, as_json: bool) -> None:
    """Show Python and package versions, the platform and the detected codecs.

    The packages that can move a number (OpenCV, numpy, scipy, pycocotools, PyAV, imageio-ffmpeg and
    its FFmpeg, torch) are listed again under "results-affecting": a run records them in env.json
    and `vcmbench anchors verify` names those that differ from an anchor's run. Each codec is listed
    with its version banner and the short hash of its binary, or the reason it is unavailable.

    \b
    Example:
      vcmbench env --json
      vcmbench env --vtm-dir /opt/VTM-12.0/bin
    """
    from ..run.env import collect_env

    env = collect_env(vtm_dir=vtm_dir)
    if as_json:
        echo_json(env)
        return
    click.echo(f"vcmbench {env['vcmbench']} (results version {env['results_version']})")
    click.echo(f"Python {env['python']} on {env['platform']} ({env['cpu_count']} cores)")
    click.echo("")
    click.echo(table(["package", "version"], [(k, v or "not installed") for k, v in env["packages"].items()]))
    click.echo("")
    ff = env["ffmpeg"]
    if ff.get("path"):
        click.echo(f"FFmpeg {ff['version']} #{ff['sha256_6']} ({ff['path']}); libvvenc: "
                   f"{'yes' if ff['libvvenc'] else 'NO'}; native VVC decoder: {'yes' if ff['vvc_decoder'] else 'NO'}")
    else:
        click.echo(f"FFmpeg: unavailable ({ff.get('reason')})")
    _print_results_affecting(env["results_affecting"])
    rows = [(name, "yes" if c["available"] else "no", c.get("version") or c.get("reason", ""), c.get("signature", ""))
            for name, c in env["codecs"].items()]
    click.echo(table(["codec", "available", "version / reason", "signature"], rows))


def _print_results_affecting(sec: dict) -> None:
    from ..run.env import OPENCV_DISTRIBUTIONS

    cv = sec["opencv"]
    rows = [("OpenCV", f"{cv['distribution']} {cv['version']}" if cv["distribution"] else "not installed",
             f"cv2 {cv['cv2']} (from {cv['cv2_from']})" if cv.get("cv2") else "")]
    rows += [(k, v or "not installed", "") for k, v in sec["packages"].items() if k not in OPENCV_DISTRIBUTIONS]
    ff = sec.get("ffmpeg")
    if ff is not None:
        rows.append(("FFmpeg", f"{ff['version']} #{ff['sha256_6']}" if ff.get("version") else "not available",
                     ff.get("reason", "")))
    click.echo("")
    click.echo("results-affecting (recorded in env.json; `vcmbench anchors verify` names changes):")
    click.echo(table(["package", "version", "detail"], rows))
    if cv.get("note"):
        click.echo(f"warning: {cv['note']}")
    click.echo("")
