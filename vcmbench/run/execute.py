"""Running one job of any kind in a worker: the dispatch table from job kind to job function.

The job modules (``image_jobs``, ``feature_jobs``, ``sequence_jobs``, ``feature_sequence_jobs``) import the shared ``jobs`` module and never this
one, so there is no import circle; a new kind of job adds one line to ``JOB_FUNCTIONS``.
"""

from __future__ import annotations

from typing import Any, Callable

from .feature_jobs import feature_job
from .feature_sequence_jobs import feature_sequence_job
from .image_jobs import code_job, reference_job, score_job
from .jobs import (
    KIND_CODE,
    KIND_FEATURE,
    KIND_FEATURE_SEQUENCE,
    KIND_REFERENCE,
    KIND_SCORE,
    KIND_SEQUENCE,
    KIND_SEQUENCE_REFERENCE,
    JobSpec,
    take_task_load_seconds,
)
from .sequence_jobs import sequence_code_job, sequence_reference_job

JOB_FUNCTIONS: dict[str, Callable[[JobSpec], dict[str, Any]]] = {
    KIND_REFERENCE: reference_job,
    KIND_CODE: code_job,
    KIND_FEATURE: feature_job,
    KIND_SCORE: score_job,
    KIND_SEQUENCE_REFERENCE: sequence_reference_job,
    KIND_SEQUENCE: sequence_code_job,
    KIND_FEATURE_SEQUENCE: feature_sequence_job,
}


def execute_job(spec: JobSpec) -> dict[str, Any]:
    """Run one job (see ``run.jobs``).  Raises VcmbenchError for tool failures."""
    result = JOB_FUNCTIONS[spec.kind](spec)
    loaded = take_task_load_seconds()  # a network loaded in this process before or during the job
    if loaded and isinstance(result.get("record"), dict):
        result["record"].setdefault("extra", {})["task_load_seconds"] = loaded
    return result
