################################################################################
# transfer_lab -- the block design of the pynq-transfer-lab overlay
#
# One script for PYNQ-Z1 and PYNQ-Z2 (both carry a Zynq-7020, xc7z020clg400-1).
# It creates a Vivado project, builds the block design, assigns the addresses,
# validates it and generates the output products (the .hwh among them).
# The Makefile next to this file runs it; by hand:
#
#   vivado -mode batch -notrace -source block_design.tcl \
#          -tclargs <board> <ip_repo> <build_dir> [<board_repo>]
#
#   board       pynq-z1 (default) or pynq-z2
#   ip_repo     folder holding the Vitis HLS IP (default: the repository's
#               hls/ folder, where `make hls` runs each hls/<k>/run_hls.tcl and
#               Vitis HLS exports hls/<k>/<k>_prj/solution1/impl/ip); Vivado
#               searches it recursively for component.xml
#   build_dir   where the project goes (default: build/<board>)
#   board_repo  optional folder with the board files, if they are not
#               installed in Vivado's own data/boards folder
#
# The simulated board describes the SAME design in labkit/sim/designs.py
# (function transfer_lab): instance names, IP types (VLNV, version included),
# base addresses, ranges, parameters and stream connections must agree, so
# that pynq builds the same ip_dict from the .hwh Vivado writes as from the
# simulator. tests/test_overlay_tcl.py runs this script under plain tclsh with
# stub Vivado commands and compares what it builds with designs.py. When you
# change one, change the other.
#
# What the design contains (a student's map):
#
#   PS (ARM)                                      PL (FPGA fabric)
#   M_AXI_GP0 --> ps7_0_axi_periph --AXI-Lite--> 5 HLS kernels + 3 DMA register files
#   S_AXI_HP0 <-- axi_mem_intercon_hp0 <-- dma_loop (MM2S, S2MM) -- loop_fifo loopback
#   S_AXI_HP1 <-- axi_mem_intercon_hp1 <-- dma_pp   -> pp_load_compute -> pp_store -> dma_pp
#   S_AXI_HP2 <-- axi_mem_intercon_hp2 <-- ddr_rowsum (m_axi: the kernel reads DDR itself)
#   S_AXI_HP3 <-- axi_mem_intercon_hp3 <-- dma_cnn  -> cnn_classifier -> dma_cnn
#
# Everything runs on one clock, FCLK_CLK0 = 100 MHz, with one reset block.
# There are no interrupt lines on purpose: the lab polls status registers, so
# pynq needs no UIO driver and the simulated board behaves the same.
################################################################################

set script_dir   [file dirname [file normalize [info script]]]
set overlay_name transfer_lab
set design_name  transfer_lab
set tool_version 2022.1   ;# the Vivado release this script is written for (README.md)

# ------------------------------------------------------------------------------
# 0. Arguments (Vivado passes the words after -tclargs in argv)
# ------------------------------------------------------------------------------
proc tclarg {index default} {
    global argv
    if {[info exists argv] && [llength $argv] > $index && [lindex $argv $index] ne ""} {
        return [lindex $argv $index]
    }
    return $default
}

set board      [string tolower [tclarg 0 pynq-z1]]
set ip_repo    [file normalize [tclarg 1 [file join $script_dir .. .. hls]]]
set build_dir  [file normalize [tclarg 2 [file join $script_dir build $board]]]
set board_repo [tclarg 3 ""]

# Both boards use the same Zynq-7020 part; they differ in the board files
# (DDR3 timing, MIO pin-out), which the PS7 board preset applies below.
set part xc7z020clg400-1
set board_parts [dict create \
    pynq-z1 www.digilentinc.com:pynq-z1:part0:1.0 \
    pynq-z2 tul.com.tw:pynq-z2:part0:1.0]
if {![dict exists $board_parts $board]} {
    error "transfer_lab: unknown board '$board'; use one of: [dict keys $board_parts]"
}
set board_part [dict get $board_parts $board]

# ------------------------------------------------------------------------------
# 1. The design as data (mirror of labkit/sim/designs.py: transfer_lab())
# ------------------------------------------------------------------------------

# The processing system. FCLK_CLK0 clocks the whole PL at 100 MHz; the GP0
# master port carries every AXI-Lite register access of the PS; the four HP
# slave ports give the PL masters (DMAs, the m_axi kernel) 64-bit access to DDR.
set ps7      processing_system7_0
set ps7_vlnv xilinx.com:ip:processing_system7:5.5
set ps7_config {
    PCW_FPGA0_PERIPHERAL_FREQMHZ 100
    PCW_APU_PERIPHERAL_FREQMHZ   650
    PCW_USE_M_AXI_GP0            1
    PCW_USE_S_AXI_HP0 1   PCW_S_AXI_HP0_DATA_WIDTH 64
    PCW_USE_S_AXI_HP1 1   PCW_S_AXI_HP1_DATA_WIDTH 64
    PCW_USE_S_AXI_HP2 1   PCW_S_AXI_HP2_DATA_WIDTH 64
    PCW_USE_S_AXI_HP3 1   PCW_S_AXI_HP3_DATA_WIDTH 64
}
set hp_ports {S_AXI_HP0 S_AXI_HP1 S_AXI_HP2 S_AXI_HP3}

# What a PL master sees through an HP port: the 512 MB of DDR3 both boards
# have, at address 0 (the same physical addresses pynq.allocate hands out).
set ddr_offset 0x00000000
set ddr_range  0x20000000

# Every AXI-Lite slave gets a 64 KB window on GP0.
set lite_range 0x00010000

# The HLS kernels (hls/<name>/, exported by `make hls` as xilinx.com:hls:<name>:1.0).
#   name            base address  HP port of its m_axi master ("" = none)
set hls_kernels {
    {mmio_rowsum     0x43C00000   ""}
    {pp_load_compute 0x43C10000   ""}
    {pp_store        0x43C20000   ""}
    {ddr_rowsum      0x43C30000   S_AXI_HP2}
    {cnn_classifier  0x43C40000   ""}
}
set hls_lite_interface s_axi_control   ;# the s_axilite bundle "control"
set hls_master_interface m_axi_gmem    ;# the m_axi bundle "gmem"

# Parameters of the HLS IP that Vitis HLS decides from the C++ (the register
# map and the m_axi bundle), not the block design: a Vitis HLS IP has no user
# parameter for them, so they cannot be set here. This script checks them
# when Vivado shows them; `make check_hwh` checks them in the .hwh after the build.
set hls_generated_parameters {
    mmio_rowsum     {C_S_AXI_CONTROL_ADDR_WIDTH 16 C_S_AXI_CONTROL_DATA_WIDTH 32}
    pp_load_compute {C_S_AXI_CONTROL_ADDR_WIDTH 6 C_S_AXI_CONTROL_DATA_WIDTH 32}
    pp_store        {C_S_AXI_CONTROL_ADDR_WIDTH 6 C_S_AXI_CONTROL_DATA_WIDTH 32}
    ddr_rowsum      {C_S_AXI_CONTROL_ADDR_WIDTH 6 C_S_AXI_CONTROL_DATA_WIDTH 32
                     C_M_AXI_GMEM_DATA_WIDTH 32 C_M_AXI_GMEM_ADDR_WIDTH 64}
    cnn_classifier  {C_S_AXI_CONTROL_ADDR_WIDTH 5 C_S_AXI_CONTROL_DATA_WIDTH 32}
}

# The AXI DMAs (PG021), in direct register mode: no scatter-gather, one
# transfer per register write, which is what pynq.lib.dma.DMA drives.
#   name      base address  HP port    MM2S stream bits  S2MM stream bits
set dma_vlnv xilinx.com:ip:axi_dma:7.1
set dmas {
    {dma_loop 0x40400000    S_AXI_HP0  64                64}
    {dma_pp   0x40410000    S_AXI_HP1  32                32}
    {dma_cnn  0x40420000    S_AXI_HP3  64                32}
}

# All DMA parameters, as labkit/sim/designs.py: _dma_parameters() lists them.
proc dma_config {mm2s_stream_bits s2mm_stream_bits} {
    return [list \
        c_include_sg                0 \
        c_sg_length_width           26 \
        c_include_mm2s              1 \
        c_include_s2mm              1 \
        c_m_axi_mm2s_data_width     64 \
        c_m_axi_s2mm_data_width     64 \
        c_m_axis_mm2s_tdata_width   $mm2s_stream_bits \
        c_s_axis_s2mm_tdata_width   $s2mm_stream_bits \
        c_mm2s_burst_size           16 \
        c_s2mm_burst_size           16 \
        c_include_mm2s_dre          0 \
        c_include_s2mm_dre          0 \
        c_micro_dma                 0 \
        c_addr_width                32 \
        c_sg_include_stscntrl_strm  0 ]
}
# c_sg_length_width 26: the length register has 26 bits, so one transfer
# moves at most 64 MiB - 1 bytes. Memory side 64 bits wide, like the HP ports.

# The loopback FIFO: whatever dma_loop reads from DDR comes straight back.
# HAS_TLAST/HAS_TKEEP make sure TLAST, which ends the S2MM transfer, passes
# the FIFO even if Vivado's parameter propagation did not turn it on.
set fifo_vlnv xilinx.com:ip:axis_data_fifo:2.0
set fifos {
    {loop_fifo {FIFO_DEPTH 1024 TDATA_NUM_BYTES 8 HAS_TLAST 1 HAS_TKEEP 1}}
}

# AXI-Stream connections: master interface -> slave interface.
set streams {
    {dma_loop/M_AXIS_MM2S        loop_fifo/S_AXIS}
    {loop_fifo/M_AXIS            dma_loop/S_AXIS_S2MM}
    {dma_pp/M_AXIS_MM2S          pp_load_compute/in_stream}
    {pp_load_compute/out_stream  pp_store/in_stream}
    {pp_store/out_stream         dma_pp/S_AXIS_S2MM}
    {dma_cnn/M_AXIS_MM2S         cnn_classifier/in_stream}
    {cnn_classifier/out_stream   dma_cnn/S_AXIS_S2MM}
}

# Infrastructure that designs.py does not model (it has no registers).
set reset_name   rst_ps7_0_100M
set reset_vlnv   xilinx.com:ip:proc_sys_reset:5.0
set periph_name  ps7_0_axi_periph
set xbar_vlnv    xilinx.com:ip:axi_interconnect:2.1

# ------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------

# Vivado wants CONFIG.<name> {value} pairs.
proc config_dict {params} {
    set result {}
    foreach {name value} $params {
        lappend result CONFIG.$name $value
    }
    return $result
}

# Create one IP instance and set its parameters.
proc add_ip {vlnv name {params {}}} {
    set cell [create_bd_cell -type ip -vlnv $vlnv $name]
    if {[llength $params]} {
        set_property -dict [config_dict $params] $cell
    }
    return $cell
}

# Parameters Vitis HLS fixed: compare what Vivado reports with what the
# simulator assumes, and stop on a difference.
proc check_hls_parameters {cell params} {
    foreach {name expected} $params {
        set actual [get_property -quiet CONFIG.$name $cell]
        if {$actual eq ""} {
            puts "NOTE: $cell shows no CONFIG.$name here; `make check_hwh` compares it in the .hwh"
        } elseif {$actual ne $expected} {
            error "transfer_lab: $cell has $name = $actual, but labkit/sim/designs.py says\
                   $expected. Change the kernel or designs.py so that they agree."
        }
    }
}

proc intf {path} { return [get_bd_intf_pins $path] }
proc pin  {path} { return [get_bd_pins $path] }

# ------------------------------------------------------------------------------
# 2. Project
# ------------------------------------------------------------------------------
if {![string match $tool_version* [version -short]]} {
    puts "WARNING: this script targets Vivado $tool_version and runs in [version -short];\
          if an IP version below is missing, see README.md"
}
if {$board_repo ne ""} {
    set_param board.repoPaths [list [file normalize $board_repo]]
}
if {[llength [get_board_parts -quiet $board_part]] == 0} {
    error "transfer_lab: the board files for $board ($board_part) are not installed.\
           Install them (see README.md) or pass their folder as the 4th -tclarg\
           (make BOARD_REPO=...)."
}

create_project $overlay_name [file join $build_dir $overlay_name] -part $part -force
set_property board_part $board_part [current_project]

# Where Vivado finds the HLS kernels (searched recursively for component.xml).
set_property ip_repo_paths [list $ip_repo] [current_project]
update_ip_catalog

set missing {}
foreach kernel $hls_kernels {
    set vlnv xilinx.com:hls:[lindex $kernel 0]:1.0
    if {[llength [get_ipdefs -all $vlnv]] == 0} {
        lappend missing $vlnv
    }
}
if {[llength $missing]} {
    error "transfer_lab: not in the IP catalog: $missing. Run `make hls` first\
           (IP repository: $ip_repo)."
}

create_bd_design $design_name

# ------------------------------------------------------------------------------
# 3. Processing system
# ------------------------------------------------------------------------------
# The board preset configures DDR3, MIO pins, UART, Ethernet, SD... as the
# board is wired; the automation also brings DDR and FIXED_IO out as ports.
# Our own settings come after it, because the preset would overwrite them.
set ps7_cell [create_bd_cell -type ip -vlnv $ps7_vlnv $ps7]
apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \
    -config {make_external "FIXED_IO, DDR" apply_board_preset "1" Master "Disable" Slave "Disable"} \
    $ps7_cell
set_property -dict [config_dict $ps7_config] $ps7_cell

# One reset block synchronises the PS reset to FCLK_CLK0 for everything.
add_ip $reset_vlnv $reset_name

# ------------------------------------------------------------------------------
# 4. The IP the lab talks to
# ------------------------------------------------------------------------------
foreach kernel $hls_kernels {
    lassign $kernel name base memory_port
    set cell [add_ip xilinx.com:hls:$name:1.0 $name]
    check_hls_parameters $cell [dict get $hls_generated_parameters $name]
}
foreach dma $dmas {
    lassign $dma name base hp mm2s_bits s2mm_bits
    add_ip $dma_vlnv $name [dma_config $mm2s_bits $s2mm_bits]
}
foreach fifo $fifos {
    lassign $fifo name params
    add_ip $fifo_vlnv $name $params
}

# ------------------------------------------------------------------------------
# 5. AXI-Lite: PS GP0 -> interconnect -> every register file
# ------------------------------------------------------------------------------
# Each PS access to a register (MMIO.write, mmio.array[...] = ...) travels
# this path: about 10-20 PL cycles per 32-bit word.
set lite_slaves {}   ;# {instance interface base}
foreach kernel $hls_kernels {
    lappend lite_slaves [list [lindex $kernel 0] $hls_lite_interface [lindex $kernel 1]]
}
foreach dma $dmas {
    lappend lite_slaves [list [lindex $dma 0] S_AXI_LITE [lindex $dma 1]]
}

add_ip $xbar_vlnv $periph_name [list NUM_SI 1 NUM_MI [llength $lite_slaves]]
connect_bd_intf_net [intf $ps7/M_AXI_GP0] [intf $periph_name/S00_AXI]
set index 0
foreach slave $lite_slaves {
    lassign $slave name interface base
    connect_bd_intf_net [intf $periph_name/[format M%02d_AXI $index]] [intf $name/$interface]
    incr index
}

# ------------------------------------------------------------------------------
# 6. Memory side: PL masters -> one interconnect per HP port -> DDR
# ------------------------------------------------------------------------------
# The interconnect merges the masters of a port (a DMA has two: MM2S reads,
# S2MM writes), converts AXI4 to the AXI3 the HP ports speak, and adapts the
# data width (ddr_rowsum's 32-bit m_axi to the 64-bit HP port).
set hp_masters [dict create]          ;# HP port -> list of {instance interface address_space}
foreach hp $hp_ports {
    dict set hp_masters $hp {}
}
foreach dma $dmas {
    lassign $dma name base hp
    dict lappend hp_masters $hp [list $name M_AXI_MM2S Data_MM2S] [list $name M_AXI_S2MM Data_S2MM]
}
foreach kernel $hls_kernels {
    lassign $kernel name base hp
    if {$hp ne ""} {
        dict lappend hp_masters $hp [list $name $hls_master_interface Data_$hls_master_interface]
    }
}

set hp_xbars {}
dict for {hp masters} $hp_masters {
    if {[llength $masters] == 0} {
        continue
    }
    set xbar axi_mem_intercon_[string tolower [string range $hp end-2 end]]   ;# axi_mem_intercon_hp0
    lappend hp_xbars $xbar
    add_ip $xbar_vlnv $xbar [list NUM_SI [llength $masters] NUM_MI 1]
    set index 0
    foreach master $masters {
        lassign $master name interface
        connect_bd_intf_net [intf $name/$interface] [intf $xbar/[format S%02d_AXI $index]]
        incr index
    }
    connect_bd_intf_net [intf $xbar/M00_AXI] [intf $ps7/$hp]
}

# ------------------------------------------------------------------------------
# 7. AXI-Stream data paths
# ------------------------------------------------------------------------------
foreach stream $streams {
    lassign $stream master slave
    connect_bd_intf_net [intf $master] [intf $slave]
}

# ------------------------------------------------------------------------------
# 8. Clock and resets
# ------------------------------------------------------------------------------
# One clock for everything: FCLK_CLK0 (100 MHz). pynq sets this clock from
# the .hwh when it downloads the overlay (Overlay.download -> clock_dict).
set clock_pins [list $ps7/FCLK_CLK0 $ps7/M_AXI_GP0_ACLK $reset_name/slowest_sync_clk]
foreach hp $hp_ports {
    lappend clock_pins $ps7/${hp}_ACLK
}
# Interconnects reset with interconnect_aresetn, all else with peripheral_aresetn.
set xbar_resets   [list $reset_name/interconnect_aresetn]
set periph_resets [list $reset_name/peripheral_aresetn]

foreach xbar [concat [list $periph_name] $hp_xbars] {
    set cell [get_bd_cells $xbar]
    set num_si [get_property CONFIG.NUM_SI $cell]
    set num_mi [get_property CONFIG.NUM_MI $cell]
    lappend clock_pins $xbar/ACLK
    lappend xbar_resets $xbar/ARESETN
    for {set i 0} {$i < $num_si} {incr i} {
        lappend clock_pins [format %s/S%02d_ACLK $xbar $i]
        lappend periph_resets [format %s/S%02d_ARESETN $xbar $i]
    }
    for {set i 0} {$i < $num_mi} {incr i} {
        lappend clock_pins [format %s/M%02d_ACLK $xbar $i]
        lappend periph_resets [format %s/M%02d_ARESETN $xbar $i]
    }
}
foreach kernel $hls_kernels {
    set name [lindex $kernel 0]
    lappend clock_pins $name/ap_clk
    lappend periph_resets $name/ap_rst_n
}
foreach dma $dmas {
    set name [lindex $dma 0]
    lappend clock_pins $name/s_axi_lite_aclk $name/m_axi_mm2s_aclk $name/m_axi_s2mm_aclk
    lappend periph_resets $name/axi_resetn
}
foreach fifo $fifos {
    set name [lindex $fifo 0]
    lappend clock_pins $name/s_axis_aclk
    lappend periph_resets $name/s_axis_aresetn
}

proc connect_all {pins} {
    set objects {}
    foreach path $pins {
        lappend objects [pin $path]
    }
    connect_bd_net {*}$objects
}
connect_all $clock_pins
connect_all [list $ps7/FCLK_RESET0_N $reset_name/ext_reset_in]
connect_all $xbar_resets
connect_all $periph_resets
# The kernels' `interrupt` and the DMAs' mm2s_introut/s2mm_introut stay
# unconnected on purpose (see the top of this file).

# ------------------------------------------------------------------------------
# 9. Address map
# ------------------------------------------------------------------------------
# What the PS sees on GP0: these are the base addresses in pynq's ip_dict.
foreach slave $lite_slaves {
    lassign $slave name interface base
    assign_bd_address -offset $base -range $lite_range \
        -target_address_space [get_bd_addr_spaces $ps7/Data] \
        [get_bd_addr_segs $name/$interface/Reg] -force
}
# What each PL master sees: DDR through its HP port.
dict for {hp masters} $hp_masters {
    set hp_number [string range $hp end end]
    foreach master $masters {
        lassign $master name interface space
        assign_bd_address -offset $ddr_offset -range $ddr_range \
            -target_address_space [get_bd_addr_spaces $name/$space] \
            [get_bd_addr_segs $ps7/$hp/HP${hp_number}_DDR_LOWOCM] -force
    }
}

# ------------------------------------------------------------------------------
# 10. Check, save, generate (the .hwh is written here), wrap
# ------------------------------------------------------------------------------
validate_bd_design
save_bd_design
set bd_file [get_files $design_name.bd]
generate_target all $bd_file
add_files -norecurse [make_wrapper -files $bd_file -top]
set_property top ${design_name}_wrapper [current_fileset]
update_compile_order -fileset sources_1

puts "transfer_lab: block design for $board ready in [file join $build_dir $overlay_name]"
