"""The board power model: what a PYNQ-Z1 would draw, from what a board (or the simulated one) did.

A PYNQ-Z1 has no power sensors (the PYNQ forum: "For PYNQ-Z1, and PYNQ-Z2, there is no on-chip
measurement"), so every watt this module reports is **modelled** -- computed from constants and
from the simulated board's activity counters, never measured.  Each constant is a
:class:`~labkit.boards.profiles.Sourced` value naming where it comes from; where no public number was
found, the source says ``estimate`` and why.

The model
---------
Energy over a stretch of ``T`` seconds is a sum of terms; power is energy / ``T``::

    E = T * (P_ps_q + P_ps_idle + P_pl_q + P_aux_q + P_ddr_q + P_ddr_standby + P_board)   static
      + t_core * P_core * f_cpu / 650 MHz                                                   PS load
      + T_clocked * k_clk * f_pl                                                            PL clock tree
      + sum over PL resources r:  t_busy(r) * P_active(ip of r) / stages(ip) * f_pl / 100 MHz
      + ddr_bytes * 8 * e_bit                                                               DDR traffic
    E_in = E / efficiency                                                                   board input

``t_core``
    core-seconds the PS was busy (a stand-in on the simulated board: see :class:`labkit.sim.meter.FabricMeter`);
``T_clocked``
    the part of ``T`` with a design in the PL and FCLK0 running;
``t_busy(r)``
    modelled busy seconds of timeline resource ``r`` (a DMA channel, a kernel stage): the cycles
    the fabric counted for it (``FabricCounters.busy_cycles``) over the PL clock.  Work counts in
    the stretch in which it was booked -- when the PS started it -- so a reading taken while a long
    transfer runs shows its energy at its start; the sum over stretches is exact.  An IP's active
    power is shared equally among its stages (DMA: MM2S and S2MM; pp_load_compute: read and
    compute ...); stalls (a kernel waiting for its consumer) are not counted;
``ddr_bytes``
    bytes the PL moved through the PS's slave ports (``S_AXI_HP*``), read plus write.

The terms land on the board's supply rails (the PYNQ-Z1's TPS65400 makes 1.0, 1.5, 1.8 and 3.3 V;
the model splits the 1.0 V output into the PS's and the PL's share, as a board with sensors would
show them), and the input rail ``VIN`` is their sum over the regulators' efficiency.

Time base
---------
PL activity is always *modelled*: cycles / clock, booked when the PS starts the work.  In
``board`` pace the status bits hold Python to the modelled time, so PL energy per wall-clock
second is what a board would show.  In ``host`` pace Python is not held back: the PS issues work faster than a board's
would, the modelled PL work queues up back to back, and power shows a PL busier than a board's
(and the PS part is this computer's).  The totals of energy per piece of work (PL busy energy,
DDR energy) are right in both paces; static energy depends on elapsed time, which only board
pace makes board-like.  Everything that shows these numbers says which pace it ran in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator, Mapping

from labkit.kernels import cnn_classifier, ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store

from labkit.errors import DesignError

from .profiles import BoardProfile, Sourced, get_profile

#: Xilinx catalogue VLNVs of the infrastructure IPs priced below (the lab's kernels carry their own).
DMA_VLNV = "xilinx.com:ip:axi_dma:7.1"
FIFO_VLNV = "xilinx.com:ip:axis_data_fifo:2.0"

__all__ = ["PowerConstants", "IpPower", "IP_POWER", "DEFAULT_IP_POWER", "RAILS", "RailSpec", "Activity",
           "PowerModel", "power_constants", "TERMS", "DMA_VLNV", "FIFO_VLNV"]

# -- sources ---------------------------------------------------------------------------------------------

DS187 = ("Xilinx DS187 Zynq-7000 DC and AC switching characteristics, typical quiescent supply current "
         "(values as transcribed in github.com/teodor961/Simple_SDR Octave/zynq_7007s_dc_ac_specs.m)")
PYNQ_Z1_MANUAL = "Digilent PYNQ-Z1 reference manual, power supplies (TPS65400: 3.3, 1.8, 1.5 and 1.0 V)"
ARM_A9_MACRO = ("ARM's power-optimised dual Cortex-A9 hard macro: 0.5 W for both cores at 800 MHz, TSMC 40G "
                "(heise.de/-788960)")
MALLADI_2012 = ("Malladi et al., 'Towards energy-proportional datacenter memory with mobile DRAM', ISCA 2012: "
                "DDR3 costs 70 pJ/bit at full bus utilisation, 40% of it static")
FORUM_NO_SENSORS = "discuss.pynq.io/t/how-to-measure-power-consumption/523: PYNQ-Z1/Z2 have no power sensors"
XC7Z020_CELLS = 85_000  # logic cells (Zynq-7000 product table, DS190)
XC7Z007S_CELLS = 23_000

REF_PL_MHZ = 100.0  #: the clock the IP active powers below are given at
REF_CPU_MHZ = 650.0  #: the clock the per-core power below is given at


@dataclass(frozen=True)
class IpPower:
    """Active power of one IP type while it works, at :data:`REF_PL_MHZ`, shared by its stages."""

    active_w: Sourced
    stages: int = 1  #: timeline resources (DMA channels, kernel stages) that share ``active_w``


def _ip_estimate(watts: float, what: str) -> Sourced:
    return Sourced(watts, "W at 100 MHz",
                   f"estimate: {what}; the order of magnitude of Vivado report_power's logic + signals + "
                   "BRAM/DSP figures for a block of this size on a 7-series part. No report_power of this "
                   "overlay has been run yet: replace with its numbers once overlays/ is built")


#: Active power per IP type (VLNV).  Stages: how many timeline resources share it.
IP_POWER: dict[str, IpPower] = {
    DMA_VLNV: IpPower(_ip_estimate(0.030, "AXI DMA, 64-bit memory side, both channels moving data"), stages=2),
    FIFO_VLNV: IpPower(_ip_estimate(0.005, "AXI-Stream data FIFO (its activity is booked on the DMA)")),
    mmio_rowsum.VLNV: IpPower(_ip_estimate(0.010, "mmio_rowsum: one adder, two BRAM memories")),
    pp_load_compute.VLNV: IpPower(_ip_estimate(0.020, "pp_load_compute: stream reader, two BRAM buffers, adder"),
                                  stages=2),
    pp_store.VLNV: IpPower(_ip_estimate(0.015, "pp_store: two BRAM buffers, stream writer"), stages=2),
    ddr_rowsum.VLNV: IpPower(_ip_estimate(0.025, "ddr_rowsum: an m_axi master with burst logic and an adder")),
    cnn_classifier.VLNV: IpPower(_ip_estimate(0.080, "cnn_classifier: weight ROMs in BRAM, a MAC datapath on "
                                                     "DSP slices, line buffers")),
}
#: What an IP type missing from :data:`IP_POWER` is assumed to draw while busy.
DEFAULT_IP_POWER = IpPower(_ip_estimate(0.020, "an HLS kernel of unknown size"))


@dataclass(frozen=True)
class PowerConstants:
    """Every number of the power model, each with its source (see the module docstring)."""

    board: str
    ps_quiescent_w: Sourced  #: VCCPINT leakage of the PS
    ps_aux_quiescent_w: Sourced  #: VCCPAUX of the PS (PLLs, I/O pre-drivers)
    ddr_io_quiescent_w: Sourced  #: VCCO_DDR of the Zynq's DDR I/O bank
    ps_idle_w: Sourced  #: PS clocks toggling with Linux idle (SCU, L2, interconnect, DDR controller)
    ps_core_w: Sourced  #: one Cortex-A9 core fully busy, at REF_CPU_MHZ
    ps_cores: Sourced
    pl_quiescent_w: Sourced  #: VCCINT + VCCBRAM leakage of the PL
    pl_aux_quiescent_w: Sourced  #: VCCAUX of the PL
    pl_clock_w_per_mhz: Sourced  #: clock tree and idle flip-flops of the loaded design, per MHz of FCLK0
    ddr_standby_w: Sourced  #: the DDR3 chip idle (standby, refresh)
    ddr_j_per_bit: Sourced  #: DDR energy per bit the PL moves, above its static power
    board_3v3_w: Sourced  #: everything on 3.3 V: Ethernet PHY, USB-UART, HDMI buffers, SD, LEDs, PL I/O banks
    regulator_efficiency: Sourced  #: board input power x efficiency = power on the rails
    input_v: Sourced  #: the board's input rail (USB or the REG jumper's 5 V)

    def constants(self) -> Iterator[tuple[str, Sourced]]:
        """``(name, Sourced)`` of every constant (for tables, notebooks and tests)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Sourced):
                yield f.name, value

    def table(self) -> str:
        """One line per constant: name, value, unit, source."""
        rows = [f"{name:<22}{float(c):>12.4g} {c.unit:<14}{c.source}" for name, c in self.constants()]
        return "\n".join([f"Power model constants ({self.board}, simulated board)"] + rows)


def _zynq7020_constants(board: str) -> PowerConstants:
    cells = XC7Z020_CELLS / XC7Z007S_CELLS
    return PowerConstants(
        board=board,
        ps_quiescent_w=Sourced(1.0 * 0.122, "W", f"{DS187}: ICCPINTQ = 122 mA at VCCPINT = 1.0 V (the PS is "
                                                 "the same block in every Zynq-7000)"),
        ps_aux_quiescent_w=Sourced(1.8 * 0.013, "W", f"{DS187}: ICCPAUXQ = 13 mA at VCCPAUX = 1.8 V"),
        ddr_io_quiescent_w=Sourced(1.5 * 0.004, "W", f"{DS187}: ICCDDRQ = 4 mA at VCCO_DDR = 1.5 V (DDR3)"),
        ps_idle_w=Sourced(0.10, "W",
                          "estimate: with Linux idle the cores sit in WFI (clock gated) but the SCU, L2, OCM, "
                          "interconnect and DDR controller stay clocked; taken as half of one busy core"),
        ps_core_w=Sourced(0.5 / 2 * REF_CPU_MHZ / 800, "W per core at 650 MHz",
                          f"{ARM_A9_MACRO}, per core and scaled to 650 MHz; the Zynq's 28 nm HPL process leaks "
                          "and switches less than 40G, so this is an upper-side estimate"),
        ps_cores=Sourced(2, "cores", "Xilinx UG585: dual ARM Cortex-A9 MPCore"),
        pl_quiescent_w=Sourced(1.0 * 0.034 * cells, "W",
                               f"estimate: {DS187}'s ICCINTQ = 34 mA for the XC7Z007S (23K logic cells), scaled "
                               "to the XC7Z020's 85K cells: leakage grows with the logic on the die"),
        pl_aux_quiescent_w=Sourced(1.8 * 0.018, "W",
                                   f"{DS187}: ICCAUXQ = 18 mA at 1.8 V for the XC7Z007S; not scaled (VCCAUX "
                                   "feeds I/O and configuration circuits, not the logic array): estimate for the "
                                   "XC7Z020"),
        pl_clock_w_per_mhz=Sourced(0.25e-3, "W/MHz",
                                   "estimate: clock tree and idle registers of a small design, 25 mW at 100 MHz, "
                                   "the size of the 'Clocks' line of Vivado power reports for designs of a few "
                                   "thousand LUTs"),
        ddr_standby_w=Sourced(0.08, "W",
                              "estimate: one 4 Gb x16 DDR3 chip in precharge standby with refresh (DDR3 datasheets "
                              "give IDD2N of a few tens of mA at 1.5 V) plus on-die termination"),
        ddr_j_per_bit=Sourced(70e-12 * 0.6, "J/bit", f"{MALLADI_2012}: the 60% that is proportional to traffic"),
        board_3v3_w=Sourced(0.60, "W",
                            "estimate: Ethernet PHY with a gigabit link, USB-UART bridge, HDMI buffers, SD card, "
                            "LEDs, PL I/O banks. The least certain constant: no public PYNQ-Z1 measurement was "
                            "found. It keeps the idle board at about 1.3 W and a busy one under the 2.5 W a "
                            f"USB 2.0 port supplies ({PYNQ_Z1_MANUAL}: USB power suffices for lower complexity "
                            "designs)"),
        regulator_efficiency=Sourced(0.85, "",
                                     "estimate: typical efficiency of the TPS65400's switching regulators at "
                                     "a few hundred mA"),
        input_v=Sourced(5.0, "V", f"{PYNQ_Z1_MANUAL}: USB (5 V), or 7-15 V through the REG jumper's regulator"),
    )


_CONSTANTS = {"PYNQ-Z1": _zynq7020_constants("PYNQ-Z1"), "PYNQ-Z2": _zynq7020_constants("PYNQ-Z2")}


def power_constants(profile: str | BoardProfile | None = None) -> PowerConstants:
    """The power model's constants for a board profile (PYNQ-Z1 unless named)."""
    name = get_profile(profile).name
    try:
        return _CONSTANTS[name]
    except KeyError:
        raise DesignError(f"the power model has no constants for {name}; it models {', '.join(_CONSTANTS)}") from None


def has_power_model(profile: str | BoardProfile | None = None) -> bool:
    """Whether the power model covers this board (the UltraScale+ profiles have no rails model yet)."""
    return get_profile(profile).name in _CONSTANTS


# -- rails ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RailSpec:
    name: str
    volts: Sourced
    description: str


_V10 = Sourced(1.0, "V", PYNQ_Z1_MANUAL)
RAILS: tuple[RailSpec, ...] = (
    RailSpec("VCCPINT", _V10, "PS internal: Cortex-A9 cores, caches, interconnect, DDR controller"),
    RailSpec("VCCINT", _V10, "PL internal: logic, clock tree, block RAM (the design in the PL)"),
    RailSpec("VCCAUX", Sourced(1.8, "V", PYNQ_Z1_MANUAL), "PS and PL auxiliary: PLLs, I/O pre-drivers"),
    RailSpec("VCCO_DDR", Sourced(1.5, "V", PYNQ_Z1_MANUAL), "DDR3 chip and the Zynq's DDR I/O"),
    RailSpec("VCC3V3", Sourced(3.3, "V", PYNQ_Z1_MANUAL), "board peripherals and PL I/O banks"),
)
INPUT_RAIL = "VIN"  #: the board's input: the sum of the rails over the regulators' efficiency

#: model terms, in the order they are shown, and the rail each one lands on
TERMS: dict[str, str] = {
    "PS static": "VCCPINT", "PS idle clocks": "VCCPINT", "PS cores busy": "VCCPINT",
    "PL static": "VCCINT", "PL clock": "VCCINT", "PL IP busy": "VCCINT",
    "aux static": "VCCAUX",
    "DDR static": "VCCO_DDR", "DDR traffic": "VCCO_DDR",
    "board 3.3 V": "VCC3V3",
}


# -- activity and the model ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Activity:
    """What the board did during ``seconds``: the model's whole input."""

    seconds: float
    ps_core_s: float = 0.0  #: core-seconds the PS was busy
    clocked_s: float = 0.0  #: seconds with a design in the PL and FCLK0 running
    clock_hz: float = 100e6  #: the PL clock (FCLK0) meanwhile
    busy_s: Mapping[str, float] = field(default_factory=dict)  #: modelled busy seconds per timeline resource
    ip_types: Mapping[str, str] = field(default_factory=dict)  #: IP name -> VLNV, for the resources' IPs
    ddr_bytes: int = 0  #: bytes the PL read + wrote through the PS's slave ports


class PowerModel:
    """Energy and power of the simulated board's rails from an :class:`Activity` (pure, no state)."""

    def __init__(self, constants: PowerConstants | None = None, cpu_mhz: float = REF_CPU_MHZ) -> None:
        self.constants = constants or power_constants()
        self.cpu_mhz = cpu_mhz

    @property
    def rail_names(self) -> list[str]:
        return [r.name for r in RAILS] + [INPUT_RAIL]

    def ip_power(self, vlnv: str) -> IpPower:
        return IP_POWER.get(vlnv, DEFAULT_IP_POWER)

    def terms(self, a: Activity) -> dict[str, float]:
        """Energy (J) of every model term over the activity's stretch (see :data:`TERMS`)."""
        c = self.constants
        T = a.seconds
        pl_mhz = a.clock_hz / 1e6
        ip_j = 0.0
        for resource, busy in a.busy_s.items():
            ip = resource.split(".", 1)[0]
            p = self.ip_power(a.ip_types.get(ip, ""))
            ip_j += busy * float(p.active_w) / p.stages * pl_mhz / REF_PL_MHZ
        return {
            "PS static": T * float(c.ps_quiescent_w),
            "PS idle clocks": T * float(c.ps_idle_w),
            "PS cores busy": a.ps_core_s * float(c.ps_core_w) * self.cpu_mhz / REF_CPU_MHZ,
            "PL static": T * float(c.pl_quiescent_w),
            "PL clock": a.clocked_s * float(c.pl_clock_w_per_mhz) * pl_mhz,
            "PL IP busy": ip_j,
            "aux static": T * (float(c.ps_aux_quiescent_w) + float(c.pl_aux_quiescent_w)),
            "DDR static": T * (float(c.ddr_io_quiescent_w) + float(c.ddr_standby_w)),
            "DDR traffic": a.ddr_bytes * 8 * float(c.ddr_j_per_bit),
            "board 3.3 V": T * float(c.board_3v3_w),
        }

    def rail_energy(self, a: Activity) -> dict[str, float]:
        """Energy (J) per rail, the input rail ``VIN`` last."""
        rails = {r.name: 0.0 for r in RAILS}
        for term, joules in self.terms(a).items():
            rails[TERMS[term]] += joules
        rails[INPUT_RAIL] = sum(rails.values()) / float(self.constants.regulator_efficiency)
        return rails

    def rail_power(self, a: Activity) -> dict[str, float]:
        """Average power (W) per rail over the activity's stretch."""
        if a.seconds <= 0:
            raise ValueError("power needs a stretch of time longer than 0 s")
        return {name: joules / a.seconds for name, joules in self.rail_energy(a).items()}

    def volts(self, rail: str) -> float:
        for spec in RAILS:
            if spec.name == rail:
                return float(spec.volts)
        if rail == INPUT_RAIL:
            return float(self.constants.input_v)
        raise KeyError(f"no rail {rail!r}; rails: {self.rail_names}")

    def steady(self, ps_cores_busy: float = 0.0, pl_clock_hz: float = 100e6, seconds: float = 1.0) -> Activity:
        """A stretch with the PS ``ps_cores_busy`` cores busy, the PL clocked and idle (for estimates)."""
        return Activity(seconds, ps_core_s=ps_cores_busy * seconds, clocked_s=seconds if pl_clock_hz else 0.0,
                        clock_hz=pl_clock_hz)
