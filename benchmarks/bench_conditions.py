"""Benchmark: validating a condition with a long QP ladder (issue 13: 100,000 QPs took a minute, the
duplicate check was quadratic).  Prints wall time per size and the ratio between the two largest
sizes: about 2 for a linear check (about 4 would mean quadratic again).

Usage:  python benchmarks/bench_conditions.py [--sizes 25000,50000,100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from vcmbench.conditions import conditions_dir, validate_file

TARGET_S = 5.0  # 100,000 QPs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="25000,50000,100000")
    sizes = [int(s) for s in ap.parse_args().sizes.split(",")]
    base = yaml.safe_load((conditions_dir() / "demo.yaml").read_text())
    times = []
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            data = dict(base, name="many", codec=dict(base["codec"], qps=[q % 64 for q in range(n)]))
            p = Path(d) / "many.yaml"
            p.write_text(yaml.safe_dump(data))
            t0 = time.perf_counter()
            issues = validate_file(p)
            times.append(time.perf_counter() - t0)
            assert [i.key for i in issues] == ["codec.qps"]
            print(f"{n:>7} QPs: {times[-1]:.3f} s")
    print(f"ratio {sizes[-1]}/{sizes[-2]} QPs: {times[-1] / times[-2]:.2f} (size ratio {sizes[-1] / sizes[-2]:.1f}); "
          f"target {TARGET_S} s at the largest: {'ok' if times[-1] <= TARGET_S else 'SLOW'}")


if __name__ == "__main__":
    main()
