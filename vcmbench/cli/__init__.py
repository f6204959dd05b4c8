"""Command-line interface: a thin shell over the library.  The only package that prints or exits.

Sub-commands live in sibling modules and are imported lazily, so ``vcmbench --help`` stays
instant and heavy backends (torch, cv2, av) load only for the commands that need them.
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..core.errors import EXIT_CODES, VcmbenchError

# command name -> "module:attribute" (module relative to vcmbench.cli)
COMMANDS: dict[str, str] = {
    "cttc": "cttc:cttc",
    "env": "env:env_cmd",
    "bdrate": "bd:bdrate",
    "report": "report:report",
    "codecs": "codec:codecs_cmd",
    "bitstream": "codec:bitstream",
    "verify": "codec:verify",
    "conformance": "codec:conformance",
    "evaluate": "evaluate:evaluate",
    "tasks": "run:tasks_cmd",
    "run": "run:run",
    "results": "run:results",
    "demo": "run:demo",
    "anchors": "anchors:anchors",
    "crosscheck": "crosscheck:crosscheck",
    "package": "crosscheck:package_cmd",
    "study": "study:study",
}

_EXIT_HELP = "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        mod_name, attr = target.split(":")
        module = importlib.import_module(f"{__name__}.{mod_name}")
        return getattr(module, attr)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VcmbenchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:  # a disk fault the library met outside the places that name it: still no traceback
            from ..core.storage import is_storage_fault, storage_error

            if not is_storage_fault(exc):
                raise
            err = storage_error(exc, "a file could not be written or read")
            click.echo(f"error: {err}", err=True)
            sys.exit(err.exit_code)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=f"\b\nExit codes:\n{_EXIT_HELP}\n\n\b\nExample:\n  vcmbench demo --out demo-run",
)
@click.version_option(__version__, prog_name="vcmbench")
def cli() -> None:
    """vcmbench: MPEG Video/Feature Coding for Machines benchmarking.

    Test conditions as data, codecs driven exactly as the conditions say, every bitstream
    verified, task accuracy (mAP) and rate (bpp), BD-rate as the JVET spreadsheet computes it,
    and the xlsx / HTML reports.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=argv, prog_name="vcmbench")
