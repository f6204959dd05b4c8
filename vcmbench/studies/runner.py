"""The resumable, parallel study runner (built on the run store and executor of ``vcmbench.run``).

Provenance: ``OUT/study.json`` (the study as run, its hash, data dir, options) and ``OUT/env.json``
(``run.env.collect_env``).

A study type module (``studies.distortions``, ``layers``, ``downscaled``, ``occlusion``) provides
``plan(study, images, ctx) -> [(variant, image, params)]``, ``job(job) -> record`` (run in a
worker; pure function of the job) and ``summarise(study, records, ctx) -> results``.

Each job's id is a content hash of what decides its result: the study type, the variant's
parameters, the image's bytes (md5), the task network, its options and its signature (weights
hash), and ``RESULTS_VERSION``;
changing an unrelated setting of the study therefore keeps the finished jobs.  Finished jobs go
into ``OUT/results.sqlite`` (``run.store.RunStore``: parent-only writer, one transaction per job,
WAL), so killing a study at any moment loses only the jobs in flight and re-running resumes.
The summary ``OUT/study-results.json`` is (re)built from the store at the end of every run
(atomically written); ``vcmbench study report`` renders it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import RESULTS_VERSION, __version__
from ..conditions.datasets import ImageRef, list_images
from ..core.errors import DataError, VcmbenchError
from ..core.jsonio import read_json, write_json
from ..run.executor import TASK_PRELOAD, make_executor
from ..run.progress import ProgressEvent
from ..run.store import RunStore
from .model import Study

MODULES = {"distortions": "distortions", "layers": "layers", "downscaled-coding": "downscaled",
           "occlusion": "occlusion"}
RESULTS_FILE = "study-results.json"


@dataclass(frozen=True)
class StudyJob:
    job_id: str
    study_type: str
    variant: str
    image: ImageRef
    params: str  # JSON
    run_dir: str
    task: str
    task_options: tuple[tuple[str, Any], ...]
    signature: str
    context: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @property
    def p(self) -> dict[str, Any]:
        return json.loads(self.params)

    @property
    def ctx(self) -> dict[str, Any]:
        return dict(self.context)


def module_for(study_type: str):
    return importlib.import_module(f"{__package__}.{MODULES[study_type]}")


def job_id(study_type: str, params: dict[str, Any], image: ImageRef, task: str, task_options, task_sig: str = "") -> str:
    key = json.dumps([study_type, params, image.digest, image.image_id, task, list(task_options), task_sig,
                      RESULTS_VERSION],
                     sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def execute_study_job(job: StudyJob) -> dict[str, Any]:
    """Run one study job (in a worker); returns the record the parent stores."""
    t0 = time.perf_counter()
    from ..run.jobs import get_cached_task

    rec = module_for(job.study_type).job(job)
    rec.setdefault("seconds", time.perf_counter() - t0)
    rec["task_signature"] = get_cached_task(job.task, job.task_options).signature()
    rec.update(job_id=job.job_id, variant=job.variant, image_id=job.image.image_id, eval_id=job.image.eval_id,
               params=job.p, signature=job.signature)
    return rec


def build_jobs(study: Study, images: list[ImageRef], run_dir: Path, context: dict[str, Any]) -> list[StudyJob]:
    from ..run.jobs import get_cached_task
    from ..tasks import cannot_split

    mod = module_for(study.type)
    task = str(study.task.get("network", ""))
    # the study's task options, plus those of the command line (--allow-unpublished-weights)
    opts = tuple(sorted({**dict(study.task_options()), **(context.get("task_options") or {})}.items()))
    needs_split = study.type != "occlusion"
    # refused from the registry before building when it shows the network cannot split (building may need
    # weights or a library this machine lacks), else once built
    if needs_split and (cannot_split(task) or not get_cached_task(task, opts).split_points):
        from ..core.errors import ConditionError

        raise ConditionError(f"Study {study.name} needs a split-capable task network; {task!r} cannot be split. "
                             "Use one listed with a split point by `vcmbench tasks`.")
    net = get_cached_task(task, opts)
    shapes = study.settings.get("map_shapes") or {}
    if needs_split and shapes and net.feature_layers and not set(shapes) <= set(net.feature_layers):
        from ..core.errors import ConditionError

        raise ConditionError(f"Study {study.name}: settings.map_shapes names the layers {', '.join(shapes)}, but the "
                             f"task network {task!r} splits into {', '.join(net.feature_layers)}. The study's layer "
                             "settings belong to its own network: run it without --task, or with a study file whose "
                             "settings name this network's layers (e.g. s3-layers-frcnn for the FPN maps p2..p6).")
    task_sig = net.signature()  # the weights' hash decides the results too
    sig = str(study.signature())
    ctx = tuple(sorted(context.items()))
    out = []
    for variant, image, params in mod.plan(study, images, context):
        out.append(StudyJob(job_id(study.type, params, image, task, opts, task_sig), study.type, variant, image,
                            json.dumps(params, sort_keys=True), str(run_dir), task, opts, sig, ctx))
    return out


def study_images(study: Study, data_dir: str | Path | None, limit: int | None) -> list[ImageRef]:
    mod = module_for(study.type)
    if hasattr(mod, "images"):
        return mod.images(study, data_dir, limit)
    return list_images(study.condition, data_dir, limit)


def run_study(study: Study, data_dir: str | Path | None, out: str | Path, *, jobs: int | None = None,
              limit: int | None = None, progress: Callable[[ProgressEvent], None] | None = None,
              options: dict[str, Any] | None = None, executor=None) -> dict[str, Any]:
    """Run (or resume) ``study`` into ``out``; returns the summary (also in ``OUT/study-results.json``).

    ``executor``: a ``run.executor.Executor`` to use (the caller closes it); default: ``make_executor(jobs)``."""
    out = Path(out)
    context = {"data_dir": str(Path(data_dir).resolve()) if data_dir else None, **(options or {})}
    images = study_images(study, data_dir, limit)
    if not images:
        raise DataError(f"Study {study.name}: no images to run; check --data and --limit.")
    store = RunStore(out)
    with store:
        prev = store.get_meta("study")
        if prev is not None and prev.get("name") != study.name:
            raise DataError(f"{out} holds the study {prev.get('name')!r}; give another --out for {study.name!r}.")
        store.set_meta("study", {"name": study.name, "content_hash": study.content_hash, "type": study.type})
        write_json(out / "study.json", {"study": study.data, "content_hash": study.content_hash,
                                         "path": str(study.path), "signature": str(study.signature()),
                                         "data_dir": context["data_dir"], "limit": limit, "vcmbench": __version__,
                                         "options": options or {}})
        from ..run.env import collect_env

        write_json(out / "env.json", collect_env(with_codecs=study.type in ("distortions", "downscaled-coding")))
        specs = build_jobs(study, images, out, context)
        done = store.done_ids()
        todo = [s for s in specs if s.job_id not in done]
        skipped = len(specs) - len(todo)
        errors: list[str] = []
        t0 = time.time()
        n = skipped
        if progress:
            progress(ProgressEvent(n, len(specs), skipped, 0, 0, 0.0, "resuming" if skipped else "", "study"))
        ex = executor if executor is not None else make_executor(jobs, preload=TASK_PRELOAD)
        try:
            for item, res, err in ex.run(execute_study_job, todo):
                n += 1
                if err is not None:
                    errors.append(f"{item.variant} image {item.image.image_id}: {err.splitlines()[0]}")
                else:
                    store.put(item.job_id, f"study:{item.variant}", item.image.image_id, None, None, res, None)
                if progress:
                    progress(ProgressEvent(n, len(specs), skipped, 0, len(errors), time.time() - t0,
                                           f"{item.variant} {item.image.image_id}", "study"))
        finally:
            if executor is None:
                ex.close()
        wanted = {s.job_id for s in specs}
        records = [rec for jid, rec, _ in store.rows() if jid in wanted]
    if errors:
        raise VcmbenchError(f"{len(errors)} study job(s) failed (the others are stored; re-run to retry them):\n  "
                            + "\n  ".join(errors[:10]))
    summary = summarise(study, records, context, out)
    summary["jobs"] = {"total": len(specs), "skipped": skipped, "ran": len(todo)}
    return summary


def summarise(study: Study, records: list[dict[str, Any]], context: dict[str, Any], out: Path) -> dict[str, Any]:
    mod = module_for(study.type)
    res = mod.summarise(study, records, context)
    sig = study.signature()
    task_sigs = sorted({r.get("task_signature") for r in records if r.get("task_signature")})
    if len(task_sigs) > 1:
        raise DataError(f"{out} holds results of different task networks ({', '.join(task_sigs)}); "
                        "give a fresh --out for the new network.")
    if task_sigs:
        sig = sig.with_part("task", task_sigs[0].replace(":", "~").replace("/", "~"))
    res.update(study=study.name, title=study.data["title"], type=study.type, content_hash=study.content_hash,
               signature=str(sig.with_version()), published=study.data.get("published"),
               deviations=study.data.get("deviations") or [],
               reproduced=study.data.get("reproduced"), images=len({r["image_id"] for r in records}))
    write_json(out / RESULTS_FILE, res)
    return res


def read_results(out: str | Path) -> dict[str, Any]:
    p = Path(out) / RESULTS_FILE
    if not p.is_file():
        raise DataError(f"{p} is missing: give the --out directory of a finished `vcmbench study run` "
                        "(re-run it to finish an interrupted study).")
    return read_json(p)
