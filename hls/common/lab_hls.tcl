# lab_hls.tcl -- the one Vitis HLS flow every kernel's run_hls.tcl calls.
#
#   lab_hls_run <kernel> ?<extra solution settings>?
#
# Run from the kernel's folder:  cd hls/<kernel> && vitis_hls -f run_hls.tcl
# Steps: C simulation of <kernel>_tb.cpp (self-test mode), synthesis, and
# export as Vivado IP with VLNV xilinx.com:hls:<kernel>:1.0 -- the VLNV that
# overlays/ instantiates and labkit/kernels/<kernel>.py names.
#
# The kernels include "hls_stream.h"; this flow does NOT put common/csim on
# the include path, so Vitis HLS uses its own hls::stream. Defining
# LAB_AXIS_USE_AP_AXI_SDATA makes lab_axis.h use ap_axiu<> in C simulation
# as well as in synthesis, so csim, synthesis and co-simulation agree.

namespace eval lab_hls {
    # PYNQ-Z1 / PYNQ-Z2 device.
    variable part xc7z020clg400-1
    # Clock period in ns: 100 MHz, the overlays' PL clock (FCLK_CLK0).
    variable clock_period_ns 10
    variable vendor xilinx.com
    variable library hls
    variable ip_version 1.0
}

proc lab_hls_run {kernel {extra_settings {}}} {
    set here [file normalize [pwd]]
    set common [file normalize [file join $here .. common]]
    set cflags "-I$common -DLAB_AXIS_USE_AP_AXI_SDATA"

    open_project -reset ${kernel}_prj
    set_top $kernel
    add_files [file join $here ${kernel}.cpp] -cflags $cflags
    add_files -tb [file join $here ${kernel}_tb.cpp] -cflags $cflags

    open_solution -reset solution1 -flow_target vivado
    set_part $lab_hls::part
    create_clock -period $lab_hls::clock_period_ns -name default
    # Kernel-specific settings (e.g. interface configuration).
    eval $extra_settings

    csim_design
    csynth_design
    export_design -format ip_catalog \
        -vendor $lab_hls::vendor -library $lab_hls::library \
        -version $lab_hls::ip_version
}
