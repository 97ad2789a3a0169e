"""The ``labkit`` command.

    labkit info              which board this is (real or simulated) and its IP blocks
    labkit bench             benchmark the transfer methods: a comparison table, CSV/JSON records
    labkit results ...       classroom records: export, collect (boards' Jupyter servers, folders), report

Examples::

    labkit bench --methods per_word,array_slice --sizes 22400
    labkit bench --sizes 22400,64K,1M --repeats 7 --pace host --csv results/bench.csv
    labkit results collect 192.168.2.10-49 --db class.sqlite       # boards' Jupyter servers (port 9090, xilinx)
    labkit results collect --folder /srv/shared/results --db class.sqlite
    labkit results report --db class.sqlite --html report.html --csv class.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def _info(args: argparse.Namespace) -> int:
    import labkit

    print(labkit.board_info(labkit.open_board(pace=args.pace)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    import labkit
    from labkit.bench import BenchError, Sweep, format_size
    from labkit.transfer import METHODS

    try:
        sweep = Sweep(args.methods or list(METHODS), args.sizes, overlay=labkit.open_board(pace=args.pace),
                      repeats=args.repeats, warmup=args.warmup, seed=args.seed,
                      progress="auto" if args.progress else None)
    except (BenchError, ValueError) as exc:
        print(f"labkit bench: {exc}", file=sys.stderr)
        return 2
    print(f"labkit bench: {', '.join(sweep.methods)} at {', '.join(format_size(s) for s in sweep.sizes)}; "
          f"{sweep.repeats} repeats after {sweep.warmup} warm-up", flush=True)
    try:
        sweep.run(raise_errors=False)
    except KeyboardInterrupt:
        print("labkit bench: interrupted; the table shows the cells that finished", file=sys.stderr)
    print()
    print(sweep.table())
    for path, save in ((args.csv, sweep.save_csv), (args.json, sweep.save_json)):
        if path:
            print(f"records saved to {save(path)}")
    if sweep.errors:
        for record in sweep.errors:
            print(f"labkit bench: {record.method} @ {format_size(record.size)} failed:\n{record.traceback}",
                  file=sys.stderr)
        return 1
    return 0


def _results(args: argparse.Namespace) -> int:
    from labkit.classroom import cli as classroom_cli

    return classroom_cli.run(args)


def _generate(args: argparse.Namespace) -> int:
    from labkit.generate import SpecError, generate, load_spec

    try:
        spec = load_spec(args.spec)
    except SpecError as exc:
        print(f"labkit generate: {exc}", file=sys.stderr)
        return 2
    report = generate(spec, args.out)
    for path, what in report.items():
        print(f"{what:>9}  {Path(args.out) / path}")
    if report.get(f"hls/{spec.name}_compute.h") == "kept":
        print(f"(hls/{spec.name}_compute.h is yours: kept as it was)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="pynq-transfer-lab command line")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="which board this is and what the overlay contains")
    info.add_argument("--pace", choices=("board", "host"), help="pace of the simulated board")
    info.set_defaults(func=_info)

    bench = sub.add_parser(
        "bench", help="benchmark the transfer methods and compare them",
        description="Run every method at every size (warm-up, then repeats) and print, per size, the median "
                    "measured time, its spread (min-max), MB/s and the ratio to the fastest method; on the "
                    "simulated board also the modelled PL/bus time and the estimated board time.")
    bench.add_argument("--methods", help="comma-separated methods (default: all): per_word, array_slice, packed16, "
                                         "dma, dma_pingpong, dram_master")
    bench.add_argument("--sizes", default="22400,1M",
                       help="comma-separated input sizes in bytes; K, M, G count in 1024s (default: 22400,1M)")
    bench.add_argument("--repeats", type=int, default=5, help="timed runs per cell (default: 5)")
    bench.add_argument("--warmup", type=int, default=1, help="untimed runs before them (default: 1)")
    bench.add_argument("--pace", choices=("board", "host"), help="pace of the simulated board (default: board, "
                                                                  "or $LABKIT_SIM_PACE)")
    bench.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    bench.add_argument("--csv", metavar="PATH", help="save the records as CSV")
    bench.add_argument("--json", metavar="PATH", help="save the records as JSON")
    bench.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no progress bar on stderr")
    bench.set_defaults(func=_bench)

    gen = sub.add_parser(
        "generate", help="generate a kernel's HLS top, Vivado Tcl, simulated design and Python driver from a spec",
        description="Read a kernel interface spec (TOML, see docs/kernel_spec.md) and write, under DIR: the HLS "
                    "top with its interface pragmas, your compute body (written once, never overwritten), a csim "
                    "testbench and run_hls.tcl; the Vivado Tcl (DMA + kernel); the design the simulated board "
                    "loads (overlay/<kernel>.hwh); and the Python driver. Re-running changes only what the spec "
                    "changed.")
    gen.add_argument("spec", help="the kernel spec (.toml)")
    gen.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (created if missing)")
    gen.set_defaults(func=_generate)

    from labkit.classroom.cli import add_parser as add_results_parser

    add_results_parser(sub, _results)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
