"""Write seeded model-zoo-style weights for a native R-CNN config (input of ``rcnn_reference.py``).

    python benchmarks/rcnn_golden.py weights COCO-Detection/faster_rcnn_R_50_FPN_3x /tmp/r50.pkl [--seed 0]
"""

from __future__ import annotations

import argparse


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("weights", help="write seeded weights as a model-zoo .pkl")
    w.add_argument("model")
    w.add_argument("out")
    w.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    from vcmbench.tasks.rcnn import get_config
    from vcmbench.tasks.rcnn.seeded import seeded_state, write_model_zoo_pkl

    path = write_model_zoo_pkl(seeded_state(get_config(a.model), a.seed), a.out)
    print(path)


if __name__ == "__main__":
    main()
