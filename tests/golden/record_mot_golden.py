"""Record the reference framework's own MOT evaluation on constructed tracks as a golden file.

Usage, in a scratch environment OUTSIDE the repository with the reference's pins (CompressAI-Vision
@31165daf ``uv.lock``: numpy 1.24.4, pandas 2.0.3, motmetrics 1.4.0, lap 0.5.12, munkres 1.1.4; no
lapsolver, as its ``scripts/install.sh`` installs lap and munkres only), and a checkout of the
reference's source (any git dir holding commit 31165daf, e.g. a mirror)::

    python3.11 -m venv /tmp/mot-np1 && /tmp/mot-np1/bin/pip install numpy==1.24.4 pandas==2.0.3 \\
        scipy==1.11.4 motmetrics==1.4.0 lap==0.5.12 munkres==1.1.4
    /tmp/mot-np1/bin/python tests/golden/record_mot_golden.py --cav-git-dir PATH/TO/CompressAI-Vision.git

Nothing of the reference is copied into the repository: at record time this script reads, from the
given git dir at commit 31165daf, ``compressai_vision/evaluators/base_evaluator.py`` (class
``BaseEvaluator``), ``compressai_vision/evaluators/evaluators.py`` (classes ``MOT_JDE_Eval``,
``MOT_TVD_Eval``, ``MOT_HiEve_Eval``), ``scripts/metrics/utils.py`` and
``scripts/metrics/compute_per_class_mota.py``, and executes those definitions unchanged; only their
heavy imports are stood in for (``torch.nn.Module`` -> ``object``, ``torch.save``/``torch.load`` ->
pickle, ``register_evaluator`` -> identity, ``jde.utils.io.unzip_objs`` unused by these two
evaluators).  For every constructed sequence (tests/golden/mot_constructed.py) it lays out the
MOTChallenge files (``SEQ/gt/gt.txt``, ``SEQ/seqinfo.ini``), builds the evaluator the way the
reference pipeline does (``MOT_TVD_Eval`` / ``MOT_HiEve_Eval``: its ``__init__`` loads the ground truth
and sets motmetrics' solver), feeds every frame's tracks through ``digest`` and records
``mot_eval()`` (the per-sequence figures of the reference's results JSON); one case with
``apply_pred_offset=True`` (its VCM-mode TVD setting).  Per class it then runs
``compute_per_class_mota(class_name, items)`` on the eval-info files those evaluators saved -- with
motmetrics' solver reset to its import-time default, as in ``gen_mpeg_cttc_csv.py``'s process, which
builds no evaluator -- and records the OVERALL row and ``summary.values[-1][13] * 100`` (the class
MOTA of ``generate_csv_classwise_video_mota``).  Writes tests/golden/mot_reference.json.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import json
import pickle
import platform
import subprocess
import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from the scratch environment
    sys.path.insert(0, str(ROOT))

from tests.golden.mot_constructed import cases  # noqa: E402

GOLDEN_FILE = Path(__file__).with_name("mot_reference.json")
COMMIT = "31165daf"
CLASS_NAME = {"tvd": "TVD", "hieve": "HIEVE-1080P"}  # compute_per_class_mota's CLASSES keys per dataset


def _show(git_dir: str, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def _classes(source: str, names: set[str]) -> str:
    """The source text of the named top-level classes, decorators included, unchanged."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    out = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in names:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            out.append("".join(lines[start:node.end_lineno]))
    assert len(out) == len(names), f"classes {names} not all found"
    return "\n\n".join(out)


def _stub_modules():
    torch = types.ModuleType("torch")
    torch.nn = types.SimpleNamespace(Module=object)

    def save(obj, path):
        with open(path, "wb") as fh:
            pickle.dump(obj, fh)

    def load(path):
        with open(path, "rb") as fh:
            return pickle.load(fh)

    torch.save, torch.load = save, load
    jde = types.ModuleType("jde")
    jde_utils = types.ModuleType("jde.utils")
    jde_io = types.ModuleType("jde.utils.io")
    jde_io.unzip_objs = lambda objs: objs
    sys.modules.update({"torch": torch, "torch.nn": torch.nn, "jde": jde, "jde.utils": jde_utils,
                        "jde.utils.io": jde_io})
    return torch


def load_reference(git_dir: str):
    import motmetrics as mm
    import numpy as np
    import pandas as pd

    torch = _stub_modules()
    ns = {"__name__": "cav_evaluators", "mm": mm, "np": np, "pd": pd, "torch": torch, "json": json,
          "Path": Path, "register_evaluator": lambda name: (lambda cls: cls)}
    import collections
    import logging
    import math
    import os
    ns.update(defaultdict=collections.defaultdict, logging=logging, math=math, os=os, nn=torch.nn)
    base_src = _show(git_dir, "compressai_vision/evaluators/base_evaluator.py")
    exec(compile(_classes(base_src, {"BaseEvaluator"}), "base_evaluator.py", "exec"), ns)
    ev_src = _show(git_dir, "compressai_vision/evaluators/evaluators.py")
    exec(compile(_classes(ev_src, {"MOT_JDE_Eval", "MOT_TVD_Eval", "MOT_HiEve_Eval"}), "evaluators.py", "exec"), ns)

    utils = types.ModuleType("utils")
    exec(compile(_show(git_dir, "scripts/metrics/utils.py"), "utils.py", "exec"), utils.__dict__)
    sys.modules["utils"] = utils
    pkg = types.ModuleType("compressai_vision")
    pkg_ev = types.ModuleType("compressai_vision.evaluators")
    pkg_evs = types.ModuleType("compressai_vision.evaluators.evaluators")
    pkg_evs.MOT_JDE_Eval = ns["MOT_JDE_Eval"]
    sys.modules.update({"compressai_vision": pkg, "compressai_vision.evaluators": pkg_ev,
                        "compressai_vision.evaluators.evaluators": pkg_evs})
    per_class = types.ModuleType("compute_per_class_mota")
    exec(compile(_show(git_dir, "scripts/metrics/compute_per_class_mota.py"), "compute_per_class_mota.py", "exec"),
         per_class.__dict__)
    return ns, utils, per_class


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        v = v.item() if hasattr(v, "item") else v
        out[k] = None if isinstance(v, float) and v != v else v
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cav-git-dir", required=True, help="git dir holding CompressAI-Vision commit 31165daf")
    ap.add_argument("--out", default=str(GOLDEN_FILE))
    args = ap.parse_args()
    import motmetrics as mm
    import numpy as np
    import pandas as pd

    import_default_solver = mm.lap.default_solver
    assert import_default_solver == "lap", f"motmetrics' default solver here is {import_default_solver}, not lap"
    ns, utils, per_class = load_reference(args.cav_git_dir)
    record = {
        "source": f"InterDigitalInc/CompressAI-Vision@{COMMIT}: evaluators MOT_TVD_Eval / MOT_HiEve_Eval "
                  "(digest, mot_eval) and scripts/metrics/compute_per_class_mota.py, executed unchanged",
        "recorded": datetime.date.today().isoformat(),
        "command": "python tests/golden/record_mot_golden.py --cav-git-dir ...",
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
                     "motmetrics": mm.__version__ if hasattr(mm, "__version__") else "1.4.0",
                     "solvers": list(mm.lap.available_solvers), "import_default_solver": import_default_solver},
        "cases": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases():
            dataset = case["dataset"]
            items, per_seq, inputs = [], {}, []
            for seq in case["sequences"]:
                d = Path(tmp) / case["class"] / seq.name
                (d / "gt").mkdir(parents=True)
                (d / "gt" / "gt.txt").write_text(seq.gt_text)
                (d / "seqinfo.ini").write_text(seq.seqinfo_text)
                frames = [{"image_id": f} for f in range(1, seq.frames + 1)]
                dset = types.SimpleNamespace(annotation_path=str(d / "gt" / "gt.txt"),
                                             seqinfo_path=str(d / "seqinfo.ini"), thing_classes=None,
                                             thing_dataset_id_to_contiguous_id=None, dataset=frames)
                cls = ns["MOT_TVD_Eval"] if dataset == "tvd" else ns["MOT_HiEve_Eval"]
                out_dir = str(d / "evaluation")
                ev = cls("MPEG", seq.name, dset, output_dir=out_dir,
                         apply_pred_offset=case.get("pred_offset", False))
                for f in range(1, seq.frames + 1):
                    trk = seq.tracks[f]
                    ev.digest([{"image_id": f}], {"tlwhs": [b for b, _, _ in trk], "ids": [i for _, i, _ in trk]})
                per_seq[seq.name] = _jsonable(ev.mot_eval())
                per_seq[seq.name]["solver"] = mm.lap.default_solver
                items.append({utils.SEQ_NAME_KEY: seq.name, utils.SEQ_INFO_KEY: str(d / "seqinfo.ini"),
                              utils.EVAL_INFO_KEY: f"{out_dir}/{ns['BaseEvaluator'].get_jde_eval_info_name(seq.name)}",
                              utils.GT_INFO_KEY: str(d / "gt" / "gt.txt")})
                inputs.append({"name": seq.name,
                               "gt_sha256": hashlib.sha256(seq.gt_text.encode()).hexdigest(),
                               "pred_sha256": hashlib.sha256(seq.pred_text.encode()).hexdigest()})
            mm.lap.default_solver = import_default_solver  # gen_mpeg_cttc_csv's process builds no evaluator
            summary, names = per_class.compute_per_class_mota(CLASS_NAME[dataset], items)
            overall = _jsonable(summary.loc["OVERALL"].to_dict())
            record["cases"].append({
                "dataset": dataset, "class": case["class"], "pred_offset": case.get("pred_offset", False),
                "inputs": inputs, "sequences": per_seq,
                "overall": overall, "class_mota_pct": float(summary.values[-1][13] * 100.0),
                "columns": list(summary.columns), "class_solver": mm.lap.default_solver})
    Path(args.out).write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out}: {len(record['cases'])} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
