#!/usr/bin/env python3
"""Compare a built ``transfer_lab.hwh`` with ``labkit/sim/designs.py``.

    python overlays/transfer_lab/check_hwh.py overlays/transfer_lab/pynq-z1/transfer_lab.hwh

The stub test (tests/test_overlay_tcl.py) checks the block-design Tcl
without Vivado; this script checks what Vivado actually wrote.  It parses the
``.hwh`` the way pynq does when a board loads the overlay (pynq's runtime
metadata parser, which needs ``pynq`` installed -- any machine will do) and
compares the resulting ``ip_dict`` with the one the simulated board builds:

* the same addressable IPs, with the same type (VLNV), base address, range
  and AXI-Lite interface name, and no others;
* every parameter designs.py lists, with the same value -- this includes the
  ones Vitis HLS decides from the C++ (``C_S_AXI_CONTROL_ADDR_WIDTH`` ...),
  which the block design cannot set;
* every register designs.py lists, at the same offset;
* no interrupt wired; the PS settings and the enabled PL clocks.

Exit status 0 if they agree, 1 with one line per difference if not.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["parse_hwh", "compare_metadata", "main"]


def parse_hwh(path: str | Path):
    """The object pynq's Overlay reads its dictionaries from, for the ``.hwh`` at ``path``."""
    from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser
    from pynqmetadata.frontends import Metadata

    return RuntimeMetadataParser(Metadata(str(path)))


def compare_metadata(parser, design) -> list[str]:
    """Differences between pynq's view of a ``.hwh`` (``parser``) and ``design``'s ``ip_dict``."""
    from labkit.sim.designs import PS7_NAME

    problems: list[str] = []
    actual = parser.ip_dict
    expected = design.ip_dict()

    for name, want in expected.items():
        have = actual.get(name)
        if have is None:
            problems.append(f"{name}: designs.py has it, the .hwh does not")
            continue
        if have.get("type") != want["type"]:
            problems.append(f"{name}: type {have.get('type')} in the .hwh, {want['type']} in designs.py")
        if name != PS7_NAME:
            for key in ("phys_addr", "addr_range", "mem_id"):
                if have.get(key) != want[key]:
                    shown = (lambda v: f"{v:#x}" if isinstance(v, int) else repr(v))
                    problems.append(f"{name}: {key} {shown(have.get(key))} in the .hwh, "
                                    f"{shown(want[key])} in designs.py")
        have_params = have.get("parameters", {})
        for key, value in want["parameters"].items():
            if key not in have_params:
                problems.append(f"{name}: parameter {key} missing in the .hwh (designs.py: {value})")
            elif str(have_params[key]) != str(value):
                problems.append(f"{name}: parameter {key} = {have_params[key]} in the .hwh, {value} in designs.py")
        if have.get("interrupts"):
            problems.append(f"{name}: interrupts {sorted(have['interrupts'])} are wired; the lab polls")
        have_registers = have.get("registers") or {}
        for register, info in (want.get("registers") or {}).items():
            if register not in have_registers:
                problems.append(f"{name}: register {register} (offset {info['address_offset']:#x}) "
                                f"missing in the .hwh")
            elif have_registers[register]["address_offset"] != info["address_offset"]:
                problems.append(f"{name}: register {register} at "
                                f"{have_registers[register]['address_offset']:#x} in the .hwh, "
                                f"{info['address_offset']:#x} in designs.py")

    for name, have in actual.items():
        if name not in expected and have.get("phys_addr") is not None:
            problems.append(f"{name} ({have.get('type')}) is addressable in the .hwh at "
                            f"{have['phys_addr']:#x}; designs.py has no such IP")

    clock_dict = getattr(parser, "clock_dict", {}) or {}
    for index in range(4):
        enabled = int(clock_dict.get(index, {}).get("enable", 0))
        wanted = 1 if index in design.clocks else 0
        if enabled != wanted:
            problems.append(f"FCLK_CLK{index}: enable={enabled} in the .hwh, {wanted} in designs.py")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path = Path(argv[0])
    if not path.is_file():
        print(f"check_hwh: no file {path} (run make first)", file=sys.stderr)
        return 2
    from labkit.sim.designs import transfer_lab

    problems = compare_metadata(parse_hwh(path), transfer_lab())
    if problems:
        print(f"{path} and labkit/sim/designs.py differ:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"{path} agrees with labkit/sim/designs.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
