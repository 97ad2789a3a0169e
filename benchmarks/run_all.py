"""Run every benchmark script in this folder, one after another, and print their tables.

    python benchmarks/run_all.py            # all of them
    python benchmarks/run_all.py dma mmio   # the ones whose file name contains one of the words

Each script prints which machine measured it; the tables are what the project's notes quote.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def scripts(filters: list[str]) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_") and p.name != "run_all.py")
    return [p for p in found if not filters or any(f in p.stem for f in filters)]


def main(argv: list[str]) -> int:
    chosen = scripts(argv)
    if not chosen:
        print(f"no benchmark matches {argv}; scripts: {', '.join(p.stem for p in scripts([]))}")
        return 2
    env = dict(os.environ, LABKIT_BOARD=os.environ.get("LABKIT_BOARD", "sim"))
    failed = []
    for script in chosen:
        print(f"\n=== {script.name} " + "=" * max(0, 70 - len(script.name)), flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], env=env)
        print(f"--- {script.name}: {'ok' if result.returncode == 0 else 'FAILED'} "
              f"in {time.perf_counter() - start:.1f} s", flush=True)
        if result.returncode:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
