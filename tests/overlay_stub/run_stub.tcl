# run_stub.tcl -- run a block design script under tclsh with the Vivado stubs.
#
#   tclsh run_stub.tcl [options] <block_design.tcl> [<tclargs>...]
#
#   --out FILE          write the JSON record to FILE (default: stdout, after
#                       a line "=== stub record ===")
#   --hls-params FILE   lines "<cell> <parameter> <value>": what the stubbed
#                       HLS IP reports for get_property CONFIG.<parameter>
#   --no-board-files    pretend no board files are installed
#   --hls-kernel NAME INTERFACES
#                       one more HLS kernel the IP catalog holds (a generated one), with its
#                       interfaces as a Tcl dict: port -> {mode protocol tdata_bytes}; the port
#                       s_axi_control with the value "none" says it has no AXI-Lite block
#
# Exit status 0 on success; 1 with the error and its Tcl trace on stderr if
# the script (or a stub check) fails.

source [file join [file dirname [file normalize [info script]]] stubs.tcl]

proc usage {message} {
    puts stderr "run_stub.tcl: $message"
    puts stderr "usage: tclsh run_stub.tcl \[--out FILE\] \[--hls-params FILE\] \[--no-board-files\] <script.tcl> \[tclargs...\]"
    exit 2
}

set out ""
set rest $argv
while {[llength $rest] && [string match --* [lindex $rest 0]]} {
    set rest [lassign $rest option]
    switch -- $option {
        --out {
            set rest [lassign $rest out]
        }
        --hls-params {
            set rest [lassign $rest path]
            ::stub::load_hls_generated $path
        }
        --no-board-files {
            ::stub::no_board_files
        }
        --hls-kernel {
            set rest [lassign $rest name interfaces]
            ::stub::add_hls_kernel $name $interfaces
        }
        default {
            usage "unknown option $option"
        }
    }
}
if {![llength $rest]} {
    usage "no script given"
}
set script [file normalize [lindex $rest 0]]
# What Vivado's -tclargs would give the script.
set argv [lrange $rest 1 end]
set argc [llength $argv]
set argv0 $script

if {[catch {uplevel #0 [list source $script]} message options]} {
    puts stderr "ERROR: $message"
    puts stderr [dict get $options -errorinfo]
    exit 1
}

set record [::stub::json]
if {$out eq ""} {
    puts "=== stub record ==="
    puts $record
} else {
    set channel [open $out w]
    puts $channel $record
    close $channel
}
exit 0
