################################################################################
# check_timing.tcl -- fail the build if the routed design misses timing
#
#   tclsh check_timing.tcl <timing_summary_routed.rpt>
#   vivado -mode batch -notrace -source check_timing.tcl -tclargs <report>
#
# Plain Tcl (no Vivado command), so either runs it. It reads the "Design
# Timing Summary" of the report Vivado writes after routing
# (<project>.runs/impl_1/transfer_lab_wrapper_timing_summary_routed.rpt):
#
#   WNS  worst negative slack, setup: < 0 means some path is slower than
#        the 10 ns clock period, and the bitstream may compute wrong results
#   WHS  worst hold slack: < 0 means some path is too fast
#
# A bitstream that misses timing can pass a quick test and fail later, so
# the overlay is only installed when both are >= 0 and Vivado reports
# "All user specified timing constraints are met." (as PYNQ's own overlay
# makefiles check).
################################################################################

proc timing_fail {message} {
    puts "ERROR: transfer_lab: $message"
    exit 1
}

if {[llength $argv] != 1} {
    timing_fail "usage: tclsh check_timing.tcl <timing_summary_routed.rpt>"
}
set report [lindex $argv 0]
if {![file readable $report]} {
    timing_fail "no timing report at $report (did `make bitstream` finish?)"
}
set channel [open $report r]
set lines [split [read $channel] \n]
close $channel

set wns ""
set whs ""
set met 0
set in_summary 0
for {set i 0} {$i < [llength $lines]} {incr i} {
    set line [lindex $lines $i]
    if {[string trim $line] eq "| Design Timing Summary"} {
        set in_summary 1
    } elseif {$in_summary && [lrange [regexp -all -inline {\S+} $line] 0 1] eq {WNS(ns) TNS(ns)}} {
        # Header, a line of dashes, then the values (WNS TNS ... WHS ...).
        for {set j [expr {$i + 1}]} {$j < [llength $lines]} {incr j} {
            set words [regexp -all -inline {\S+} [lindex $lines $j]]
            if {[llength $words] && ![regexp {^-+$} [lindex $words 0]]} {
                set wns [lindex $words 0]
                set whs [lindex $words 4]
                break
            }
        }
        set in_summary 0
    }
    if {[string trim $line] eq "All user specified timing constraints are met."} {
        set met 1
    }
}

if {![string is double -strict $wns]} {
    timing_fail "no WNS in the Design Timing Summary of $report (found '$wns')"
}
puts "transfer_lab timing: WNS = $wns ns (setup), WHS = [expr {$whs eq "" ? "n/a" : $whs}] ns (hold)"
if {$wns < 0} {
    timing_fail "setup timing missed by [expr {-$wns}] ns at 100 MHz: the bitstream is not installed.\
                 Look at the failing paths in $report."
}
if {[string is double -strict $whs] && $whs < 0} {
    timing_fail "hold timing missed by [expr {-$whs}] ns: the bitstream is not installed."
}
if {!$met} {
    timing_fail "Vivado does not report \"All user specified timing constraints are met.\" in $report"
}
puts "transfer_lab: timing constraints are met."
exit 0
