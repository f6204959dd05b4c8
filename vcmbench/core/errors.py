"""Error hierarchy.  Every message names the problem and the fix.

The CLI maps each class to a documented exit code (see ``EXIT_CODES`` and README "Exit codes").
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # something could not be computed / a tool failed
EXIT_USAGE = 2  # bad input, bad usage
EXIT_REGRESSION = 3  # results differ from the anchor (a verdict, not a crash)
EXIT_NOT_VERIFIED = 4  # a bitstream / conformance / cross-check verdict failed


class VcmbenchError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = EXIT_FAILURE


class UsageError(VcmbenchError):
    """Bad input: a missing file, a malformed value, an unknown name."""

    exit_code = EXIT_USAGE


class ConditionError(UsageError):
    """A test condition file is invalid or does not match the data."""


class DataError(UsageError):
    """User-supplied data (image lists, annotations, CSVs) is missing or malformed."""


class RegistryError(UsageError):
    """Unknown or duplicate name in a registry (codecs, tasks, metrics, BD methods)."""


class CodecError(VcmbenchError):
    """A codec binary is missing, the wrong version, or failed."""


class CodecSetupError(CodecError, UsageError):
    """A codec is not where the user pointed (``--vtm-dir`` / ``VCMBENCH_VTM_DIR`` missing, not a folder, without
    the binaries, or a binary not executable): bad input (exit 2), not a tool failure."""

    exit_code = EXIT_USAGE


class BitstreamError(VcmbenchError):
    """A bitstream cannot be parsed or does not decode."""


class StorageError(VcmbenchError):
    """The disk failed under a run (full, read-only, an I/O error): a fault of the machine, never a verdict.
    The job that met it is not recorded, so re-running the same command redoes it."""


class ClusterError(VcmbenchError):
    """A Dask cluster failed under a run (no worker joined in time, the scheduler went away): a fault of the
    machines, never a verdict.  The jobs finished before are stored, so re-running the same command resumes."""


class EvaluationError(VcmbenchError):
    """A metric cannot be computed from the given inputs."""


class BDError(UsageError):
    """A BD-rate/BD-quality computation was refused (too few points, non-monotonic, no overlap)."""


class VerificationFailed(VcmbenchError):
    """A verification / conformance / cross-check verdict is negative."""

    exit_code = EXIT_NOT_VERIFIED


class AnchorMismatch(VcmbenchError):
    """Results differ from the stored anchor beyond tolerance (a regression)."""

    exit_code = EXIT_REGRESSION


class SignatureMismatch(UsageError):
    """Two results cannot be compared: a signature part that matters differs."""


EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILURE: "failure: something could not be computed or a tool failed",
    EXIT_USAGE: "usage error or bad input",
    EXIT_REGRESSION: "results differ from the anchor beyond tolerance",
    EXIT_NOT_VERIFIED: "a bitstream, conformance case or cross-check item did not verify",
}
