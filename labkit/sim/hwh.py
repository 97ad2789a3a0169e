"""A user's ``design.bit`` + ``design.hwh`` on the simulated board, through pynq's own metadata parser.

``pynq.Overlay("dir/design.bit")`` asks the device for the design's metadata.  On a board pynq
parses the ``.hwh`` beside the ``.bit`` with ``RuntimeMetadataParser(Metadata(input=hwh))``
(``pynq.pl_server.embedded_device``, pynq 3.1 and 4.0 alike); the simulated board does exactly
that, so ``ip_dict``, ``hierarchy_dict``, ``clock_dict``, the register maps with Vivado's field
names and the drivers pynq binds are the ones a board gives.  The ``.bit`` itself is never read
(there is no fabric to configure): it must exist, as pynq checks, and the log says once that it
was not read.  A missing ``.hwh`` gets pynq's own error.

From the same ``.hwh`` this module builds the simulated :class:`~labkit.sim.designs.Design`:

* every IP by VLNV, with the parameters Vivado wrote (``PARAMETERS`` of its ``MODULE``);
* AXI-Lite base and range from pynq's ``ip_dict``;
* AXI-Stream connections from the ``BUSINTERFACE`` bus names (an initiator and a target that
  share a ``BUSNAME`` are connected);
* which PS slave port each AXI master reaches (through interconnects and smartconnects), and that
  port's data width from the PS parameters;
* the PL clocks from the PS (pynq's ``clock_dict``);
* the family of the PS (Zynq-7000 or Zynq UltraScale+), which must match the board profile.
"""

from __future__ import annotations

import logging
import warnings
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import DesignError

from .designs import Design
from .ip import catalogue_entry
from .ip.base import IPSpec
from labkit.boards.profiles import BoardProfile

__all__ = ["HwhModule", "read_hwh", "hwh_design", "load_metadata", "FAMILIES"]

log = logging.getLogger("labkit.sim")

#: PS block MODTYPE -> family name used by board profiles
FAMILIES = {"processing_system7": "zynq", "zynq_ultra_ps_e": "zynq_us+"}
AXIS = "xilinx.com:interface:axis:1.0"
AXIMM = "xilinx.com:interface:aximm:1.0"
_OUT = ("INITIATOR", "MASTER")
_IN = ("TARGET", "SLAVE")


@dataclass
class HwhModule:
    """One ``MODULE`` of a ``.hwh``: what the simulated board needs beyond pynq's ``ip_dict``."""

    instance: str
    vlnv: str
    modtype: str
    parameters: dict[str, str]
    #: bus interface name -> (TYPE, BUSNAME, interface VLNV, TDATA_NUM_BYTES or 0)
    buses: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    #: path in the block design, "hier/ip" for an IP inside a hierarchy (pynq's ip_dict key)
    fullname: str = ""


def read_hwh(path: str | Path) -> list[HwhModule]:
    """The modules of a ``.hwh`` with their parameters and bus interfaces (plain XML reading)."""
    root = ElementTree.parse(str(path)).getroot()
    modules = []
    for mod in root.iter("MODULE"):
        params_el = mod.find("PARAMETERS")
        params = {p.get("NAME"): p.get("VALUE") for p in params_el.findall("PARAMETER")} if params_el is not None else {}
        buses = {}
        for bus in mod.iter("BUSINTERFACE"):
            busname = bus.get("BUSNAME")
            if not busname or busname == "__NOC__":
                continue
            width = 0
            for p in bus.iter("PARAMETER"):
                if p.get("NAME") == "TDATA_NUM_BYTES":
                    try:
                        width = int(p.get("VALUE"))
                    except (TypeError, ValueError):
                        pass
            buses[bus.get("NAME")] = (bus.get("TYPE", ""), busname, bus.get("VLNV", ""), width)
        fullname = (mod.get("FULLNAME") or mod.get("INSTANCE") or "").lstrip("/")
        modules.append(HwhModule(mod.get("INSTANCE"), mod.get("VLNV", ""), mod.get("MODTYPE", ""), params, buses,
                                 fullname))
    return modules


def _family(modules: list[HwhModule]) -> tuple[HwhModule, str]:
    for mod in modules:
        if mod.modtype in FAMILIES:
            return mod, FAMILIES[mod.modtype]
    kinds = ", ".join(sorted({m.modtype for m in modules})) or "none"
    raise DesignError(f"this .hwh has no Zynq processing system (processing_system7 or zynq_ultra_ps_e); "
                      f"module types found: {kinds}. The simulated board runs Zynq-7000 and Zynq UltraScale+ "
                      f"designs only.")


def _ps_port_width(ps: HwhModule, family: str, port: str) -> int | None:
    """Data width in bits of a PS slave port (HP/HPC/ACP), from the PS parameters."""
    p = ps.parameters
    if family == "zynq":
        value = p.get(f"PCW_{port}_DATA_WIDTH")
    else:
        # UG1085 / the PS IP's naming: S_AXI_HPC0/1_FPD = SAXIGP0/1, S_AXI_HP0..3_FPD = SAXIGP2..5, S_AXI_LPD = 6
        names = {"S_AXI_HPC0_FPD": 0, "S_AXI_HPC1_FPD": 1, "S_AXI_HP0_FPD": 2, "S_AXI_HP1_FPD": 3,
                 "S_AXI_HP2_FPD": 4, "S_AXI_HP3_FPD": 5, "S_AXI_LPD": 6}
        value = p.get(f"PSU__SAXIGP{names[port]}__DATA_WIDTH") if port in names else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _memory_ports(modules: list[HwhModule], ps: HwhModule) -> dict[tuple[str, str], str]:
    """(IP, AXI master port) -> the PS slave port it reaches, following interconnects."""
    by_bus: dict[str, list[tuple[HwhModule, str, str]]] = {}
    for mod in modules:
        for name, (kind, busname, vlnv, _) in mod.buses.items():
            if vlnv == AXIMM:
                by_bus.setdefault(busname, []).append((mod, name, kind))
    result = {}
    for mod in modules:
        if mod is ps:
            continue
        for name, (kind, busname, vlnv, _) in mod.buses.items():
            if vlnv != AXIMM or kind != "MASTER":
                continue
            seen, todo = {busname}, [busname]
            while todo:
                bus = todo.pop()
                for other, port, okind in by_bus.get(bus, []):
                    if other is ps and okind == "SLAVE":
                        result[(mod.instance, name)] = port
                    elif other is not mod and catalogue_entry(other.vlnv) == "transparent":
                        for oname, (k2, b2, v2, _) in other.buses.items():  # through the interconnect
                            if v2 == AXIMM and b2 not in seen and k2 == "MASTER":
                                seen.add(b2)
                                todo.append(b2)
    return result


def _streams(modules: list[HwhModule]) -> dict[tuple[str, str], tuple[str, str]]:
    masters, slaves = {}, {}
    for mod in modules:
        for name, (kind, busname, vlnv, _) in mod.buses.items():
            if vlnv != AXIS:
                continue
            if kind in _OUT:
                masters[busname] = (mod.instance, name)
            elif kind in _IN:
                slaves[busname] = (mod.instance, name)
    return {masters[b]: slaves[b] for b in masters if b in slaves}


def ps_clock_mhz(ps: HwhModule, family: str, index: int) -> float | None:
    """The PL clock ``index`` the design was built for, from the PS parameters (the rate Vivado met)."""
    names = ([f"PCW_ACT_FPGA{index}_PERIPHERAL_FREQMHZ", f"PCW_FPGA{index}_PERIPHERAL_FREQMHZ"] if family == "zynq"
             else [f"PSU__CRL_APB__PL{index}_REF_CTRL__ACT_FREQMHZ", f"PSU__CRL_APB__PL{index}_REF_CTRL__FREQMHZ"])
    for name in names:
        try:
            return float(ps.parameters[name])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def load_metadata(hwh: Path) -> Any:
    """pynq's own parser for ``hwh``, as pynq builds it for a full bitstream on a board."""
    from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser  # pynq 3.1 and 4.0
    from pynqmetadata.frontends import Metadata

    return RuntimeMetadataParser(Metadata(input=hwh))


def hwh_design(bitfile: str | Path, profile: BoardProfile) -> Any:
    """Metadata for ``pynq.Overlay(bitfile)`` on the simulated board: pynq's parser, plus ``.design``.

    Raises pynq's own error when the ``.hwh`` is missing, :class:`DesignError` when the design
    needs another family of board than ``profile``.
    """
    bitfile = Path(bitfile)
    from pynq.pl_server.hwh_parser import get_hwh_name

    hwh = Path(get_hwh_name(str(bitfile)))
    if not hwh.is_file():
        raise RuntimeError("Unable to find metadata for bitstream")  # pynq's words for a .bit without .hwh
    modules = read_hwh(hwh)
    ps, family = _family(modules)
    if family != profile.family:
        wanted = [name for name, p in _profiles().items() if p.family == family]
        raise DesignError(f"{hwh.name} is a {_FAMILY_NAMES[family]} design ({ps.vlnv}), but the simulated board is "
                          f"a {profile.name} ({_FAMILY_NAMES[profile.family]}). Choose a matching board with "
                          f"LABKIT_SIM_PROFILE={wanted[0] if wanted else '?'} (profiles of that family: "
                          f"{', '.join(wanted)}), set before pynq is imported: in the environment of the script "
                          f"or of `make lab`, or `%env LABKIT_SIM_PROFILE={wanted[0] if wanted else '?'}` as the "
                          f"first cell of a notebook (then restart its kernel).")
    parser = load_metadata(hwh)
    # pynq 4.0.0's parser leaves a Zynq-7000 clock's "frequency" at None (pynqmetadata reads the
    # UltraScale+ parameter name for every PS), and Overlay.download passes it to Clocks.set_pl_clk.
    # The rate Vivado met is in the PS parameters: fill it in, so pynq sets the design's clock.
    for index, clock in getattr(parser, "clock_dict", {}).items():
        if isinstance(clock, dict) and clock.get("enable") and clock.get("frequency") is None:
            mhz = ps_clock_mhz(ps, family, int(index))
            if mhz:
                clock["frequency"] = mhz
    _drop_interrupts(parser, hwh.name)
    parser.design = _build_design(hwh, modules, ps, family, parser)
    log.info("%s: the simulated board takes the design from %s; the bitstream itself is not read",
             bitfile.name, hwh.name)
    return parser


_FAMILY_NAMES = {"zynq": "Zynq-7000", "zynq_us+": "Zynq UltraScale+"}


def _drop_interrupts(parser: Any, hwh_name: str) -> None:
    """Interrupt lines need Linux UIO devices, which only a board has: pynq's drivers would fail to
    create their ``Interrupt`` objects.  Without them they poll (``DMA.wait`` does), so the simulated
    board removes the interrupts from the metadata -- the one place where it differs from a board --
    and says so once.  ``wait_async`` and other interrupt-driven code do not run here."""
    dropped = sorted(f"{ip}/{pin}" for ip, entry in parser.ip_dict.items()
                     for pin in (entry.get("interrupts") or {}))
    for entry in list(parser.ip_dict.values()) + list(getattr(parser, "hierarchy_dict", {}).values()):
        if isinstance(entry, dict) and entry.get("interrupts"):
            entry["interrupts"] = {}
    parser.interrupt_controllers = {}
    parser.interrupt_pins = {}
    if dropped:
        log.warning("%s: interrupt lines are not simulated (no UIO); drivers poll instead: %s",
                    hwh_name, ", ".join(dropped))


def _profiles():
    from labkit.boards.profiles import PROFILES

    return PROFILES


def _build_design(hwh: Path, modules: list[HwhModule], ps: HwhModule, family: str, parser: Any) -> Design:
    ip_dict = parser.ip_dict
    by_path = {v.get("fullpath", k): v for k, v in ip_dict.items()}
    mem_ports = _memory_ports(modules, ps)
    streams = _streams(modules)
    ips: list[IPSpec] = []
    unknown: list[str] = []
    for mod in modules:
        if mod is ps:
            continue
        kind = catalogue_entry(mod.vlnv)
        if kind == "transparent":
            continue
        entry = by_path.get(mod.fullname) or ip_dict.get(mod.fullname)  # ip_dict keys are full paths
        base = int(entry["phys_addr"]) if entry is not None and entry.get("phys_addr") is not None else None
        addr_range = int(entry["addr_range"]) if base is not None else 0
        name = mod.fullname or mod.instance
        ports = {p for (ip, p) in mem_ports if ip == mod.instance}
        memory_port = mem_ports.get((mod.instance, sorted(ports)[0])) if ports else None
        params = dict(mod.parameters)
        if memory_port is not None:
            width = _ps_port_width(ps, family, memory_port)
            if width:
                params["labkit_memory_port_width"] = str(width)
        stream_ports = {port: (("out" if kind_ in _OUT else "in"), width)
                        for port, (kind_, _, vlnv, width) in mod.buses.items() if vlnv == AXIS}
        spec = IPSpec(name=name, vlnv=mod.vlnv, base=base, addr_range=addr_range, parameters=params,
                      registers=dict((entry or {}).get("registers") or {}), memory_port=memory_port,
                      description=f"{mod.modtype} from {hwh.name}", stream_ports=stream_ports)
        if kind is None:
            unknown.append(f"{name} ({mod.vlnv})")
            spec.unmodelled = True
        ips.append(spec)
    if unknown:
        warnings.warn(f"{hwh.name}: the simulated board has no model of {len(unknown)} IP: {', '.join(unknown)}. "
                      f"The design loads; touching those IPs raises an error (never silent zeros).",
                      RuntimeWarning, stacklevel=4)
    names = {spec.name for spec in ips}
    inst_to_name = {mod.instance: mod.fullname or mod.instance for mod in modules
                    if (mod.fullname or mod.instance) in names}
    kept = {}
    for (src, sport), (dst, dport) in streams.items():
        if src in inst_to_name and dst in inst_to_name:
            kept[(inst_to_name[src], sport)] = (inst_to_name[dst], dport)
    clocks = {}
    for index, clock in parser.clock_dict.items():
        if isinstance(clock, dict) and clock.get("enable") and clock.get("frequency"):
            clocks[int(index)] = float(clock["frequency"])
    design = Design(name=hwh.stem, description=f"{hwh.name} ({_FAMILY_NAMES[family]})", ips=ips, streams=kept,
                    clocks=clocks or {0: 100.0}, ps_parameters=dict(ps.parameters))
    design.family = family
    return design
