################################################################################
# build_bitstream.tcl -- synthesis, implementation and bitstream of transfer_lab
#
#   vivado -mode batch -notrace -source build_bitstream.tcl -tclargs <build_dir> [<jobs>]
#
# Opens the project block_design.tcl created in <build_dir>/transfer_lab/,
# runs synthesis and implementation up to write_bitstream, and puts the two
# files pynq needs next to each other, with the same base name:
#
#   <build_dir>/transfer_lab.bit   the bitstream (the wrapper's, renamed)
#   <build_dir>/transfer_lab.hwh   the hardware handoff pynq reads for ip_dict
#
# The Makefile copies them to <board>/ only after check_timing.tcl passed.
################################################################################

set overlay_name transfer_lab
set design_name  transfer_lab

if {[llength $argv] < 1} {
    error "usage: vivado -mode batch -source build_bitstream.tcl -tclargs <build_dir> \[<jobs>\]"
}
set build_dir [file normalize [lindex $argv 0]]
set jobs [expr {[llength $argv] > 1 ? [lindex $argv 1] : 4}]
set project_dir [file join $build_dir $overlay_name]

open_project [file join $project_dir $overlay_name.xpr]

# Synthesis, then placement, routing and the bitstream. Each run starts from
# scratch, so a stale result can never end up in the overlay.
foreach {run steps} {synth_1 {} impl_1 {-to_step write_bitstream}} {
    reset_run $run
    launch_runs $run {*}$steps -jobs $jobs
    wait_on_run $run
    if {[get_property PROGRESS [get_runs $run]] ne "100%"} {
        error "transfer_lab: $run did not finish ([get_property STATUS [get_runs $run]]);\
               see [get_property DIRECTORY [get_runs $run]]/runme.log"
    }
}

# The bitstream is named after the top level (the wrapper), the .hwh after the
# block design; pynq wants both under one name, in one folder.
set bit [file join [get_property DIRECTORY [get_runs impl_1]] ${design_name}_wrapper.bit]
set hwh_candidates [glob -nocomplain \
    [file join $project_dir $overlay_name.gen sources_1 bd $design_name hw_handoff $design_name.hwh] \
    [file join $project_dir $overlay_name.srcs sources_1 bd $design_name hw_handoff $design_name.hwh]]
if {![file exists $bit]} {
    error "transfer_lab: no bitstream at $bit"
}
if {[llength $hwh_candidates] == 0} {
    error "transfer_lab: no $design_name.hwh under $project_dir (generate_target did not run?)"
}
file copy -force $bit [file join $build_dir $overlay_name.bit]
file copy -force [lindex $hwh_candidates 0] [file join $build_dir $overlay_name.hwh]
puts "transfer_lab: wrote [file join $build_dir $overlay_name.bit] and $overlay_name.hwh"
close_project
