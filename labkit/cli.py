"""The ``labkit`` command.

    labkit info              which board this is (real or simulated) and its IP blocks
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _info(args: argparse.Namespace) -> int:
    import labkit

    overlay = labkit.open_board(pace=args.pace) if args.pace else labkit.open_board()
    print(labkit.board_info(overlay))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labkit", description="pynq-transfer-lab command line")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="which board this is and what the overlay contains")
    info.add_argument("--pace", choices=("board", "host"), help="pace of the simulated board")
    info.set_defaults(func=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
