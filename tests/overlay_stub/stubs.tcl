# stubs.tcl -- just enough of Vivado's Tcl API to run overlays/*/block_design.tcl
# under plain tclsh, RECORDING what the script builds.
#
# Every Vivado command the block design uses is a proc here that checks its
# arguments the way Vivado would (unknown options, unknown IP, pins and
# parameters, double connections, unreachable or overlapping addresses...)
# and records the result: cells with VLNV and CONFIG values, interface and
# plain nets, address assignments, property reads and the order of the steps.
# ::stub::json returns the record; run_stub.tcl writes it out.
#
# Anything else fails loudly: a command this file does not define raises
# "not modelled by the Vivado stub", so the script under test cannot do
# something that the record silently leaves out. When the block design needs
# a new command, IP or parameter, model it here first.
#
# The IP models below (interfaces, pins, address spaces, segments, the
# parameter names Vivado accepts) come from the product guides and from a
# .hwh file Vivado wrote (pynqmetadata's tests/hwhs/resizer.hwh): PG021
# (axi_dma 7.1), PG085 (axis_data_fifo 2.0), PG059 (axi_interconnect 2.1),
# PG164 (proc_sys_reset 5.0), UG585/PG082 (processing_system7 5.5).

namespace eval ::stub {
    variable project {}         ;# dict: name dir part board_part ip_repo_paths ...
    variable params {}          ;# set_param values
    variable board_parts_installed {www.digilentinc.com:pynq-z1:part0:1.0 tul.com.tw:pynq-z2:part0:1.0}
    variable catalog_updated 0
    variable design ""
    variable cells {}           ;# dict name -> {vlnv ... config {...}}
    variable cell_order {}
    variable intf_nets {}       ;# list of {a b} interface pin paths, as connected
    variable intf_peer {}       ;# dict pin -> peer pin
    variable nets {}            ;# list of pin lists
    variable pin_net {}         ;# dict pin -> net index
    variable external {}        ;# interface pins made external
    variable automation {}      ;# list of {rule config cell}
    variable addresses {}       ;# list of dicts: space segment offset range
    variable reads {}           ;# list of {object property value}
    variable steps {}           ;# Vivado commands in the order they ran
    variable validated 0
    variable saved 0
    variable generated 0
    variable wrapper ""
    variable top ""
    variable files {}
    variable vivado_version 2022.1
    # Answers for get_property CONFIG.<p> on HLS cells: what Vitis HLS
    # generated. Unknown (empty) unless a test loads them (load_hls_generated).
    variable hls_generated {}

    # The HLS kernels the stub knows, with the interfaces their C++ pragmas
    # give them (hls/<k>/<k>.cpp): axis ports with their TDATA bytes, m_axi
    # bundles. Every one also has s_axi_control, ap_clk, ap_rst_n, interrupt.
    variable hls_kernels {
        mmio_rowsum     {}
        pp_load_compute {in_stream {slave axis 4}  out_stream {master axis 4}}
        pp_store        {in_stream {slave axis 4}  out_stream {master axis 4}}
        ddr_rowsum      {m_axi_gmem {master aximm 0}}
        cnn_classifier  {in_stream {slave axis 8}  out_stream {master axis 4}}
    }

    # User parameters Vivado accepts on each IP (CONFIG.<name>).
    variable dma_parameters {
        c_include_sg c_enable_multi_channel c_num_mm2s_channels c_num_s2mm_channels
        c_sg_length_width c_dlytmr_resolution c_prmry_is_aclk_async
        c_sg_include_stscntrl_strm c_micro_dma c_include_mm2s c_m_axi_mm2s_data_width
        c_m_axis_mm2s_tdata_width c_include_mm2s_dre c_include_mm2s_sf c_mm2s_burst_size
        c_include_s2mm c_sg_use_stsapp_length c_m_axi_s2mm_data_width
        c_s_axis_s2mm_tdata_width c_include_s2mm_dre c_include_s2mm_sf c_s2mm_burst_size
        c_addr_width c_single_interface c_increase_throughput
    }
}

# ------------------------------------------------------------------------------
# Failing loudly
# ------------------------------------------------------------------------------
proc ::stub::fail {message} {
    return -code error -errorcode {VIVADO_STUB} "stub: $message"
}

rename ::unknown ::stub::_tcl_unknown
proc ::unknown {args} {
    set name [lindex $args 0]
    # Let Tcl auto-load its own library (clock, msgcat, ...).
    if {[string match ::tcl::* $name] || [string match tcl::* $name]} {
        return [uplevel 1 [list ::stub::_tcl_unknown {*}$args]]
    }
    ::stub::fail "'$name' is not modelled by the Vivado stub (tests/overlay_stub/stubs.tcl).\
                  If the block design really needs this Vivado command, model it there."
}

# Parse "-opt value" / "-flag" arguments strictly. spec: dict option -> 1 if
# it takes a value, 0 for a flag. Returns {options positional}.
proc ::stub::parse {command spec arguments} {
    set options {}
    set positional {}
    set n [llength $arguments]
    for {set i 0} {$i < $n} {incr i} {
        set word [lindex $arguments $i]
        if {[string match -* $word] && ![string is double -strict $word]} {
            if {$word in {-quiet -verbose}} {
                dict set options $word 1
                continue
            }
            if {![dict exists $spec $word]} {
                fail "$command: unknown option $word (known: [dict keys $spec])"
            }
            if {[dict get $spec $word]} {
                incr i
                if {$i >= $n} {
                    fail "$command: option $word needs a value"
                }
                dict set options $word [lindex $arguments $i]
            } else {
                dict set options $word 1
            }
        } else {
            lappend positional $word
        }
    }
    return [list $options $positional]
}

proc ::stub::step {name} {
    variable steps
    lappend steps $name
}

proc ::stub::need_project {command} {
    variable project
    if {![dict size $project]} {
        fail "$command: no project is open (create_project first)"
    }
}

proc ::stub::need_design {command} {
    variable design
    if {$design eq ""} {
        fail "$command: no block design is open (create_bd_design first)"
    }
}

# Objects are handed out as Vivado prints them: "/cell", "/cell/pin".
proc ::stub::strip {path} {
    return [string trimleft $path /]
}

# Many Vivado commands take a list of objects where one is expected.
proc ::stub::one {command objects what} {
    if {[llength $objects] != 1} {
        fail "$command: expected exactly one $what, got '[join $objects {, }]'"
    }
    return [strip [lindex $objects 0]]
}

# ------------------------------------------------------------------------------
# IP models
# ------------------------------------------------------------------------------
proc ::stub::power_of_two {value} {
    return [expr {$value > 0 && ($value & ($value - 1)) == 0}]
}

proc ::stub::config_of {cell name {default ""}} {
    variable cells
    set config [dict get $cells $cell config]
    if {[dict exists $config $name]} {
        return [dict get $config $name]
    }
    return $default
}

proc ::stub::hls_name {vlnv} {
    variable hls_kernels
    lassign [split $vlnv :] vendor library name version
    if {$vendor eq "xilinx.com" && $library eq "hls" && $version eq "1.0" && [dict exists $hls_kernels $name]} {
        return $name
    }
    return ""
}

# The IP catalog: Vivado's own IP, and the HLS IP once an IP repository is
# set and the catalog updated.
proc ::stub::in_catalog {vlnv} {
    variable project
    variable catalog_updated
    if {$vlnv in {
            xilinx.com:ip:processing_system7:5.5 xilinx.com:ip:axi_dma:7.1
            xilinx.com:ip:axis_data_fifo:2.0 xilinx.com:ip:proc_sys_reset:5.0
            xilinx.com:ip:axi_interconnect:2.1 xilinx.com:ip:smartconnect:1.0}} {
        return 1
    }
    if {[hls_name $vlnv] ne ""} {
        return [expr {$catalog_updated && [dict exists $project ip_repo_paths]
                      && [llength [dict get $project ip_repo_paths]] > 0}]
    }
    return 0
}

# Model of one cell as it is configured now:
#   intf   pin -> {mode protocol tdata_bytes}
#   pins   pin -> {direction type}   (type: clk rst intr data)
#   spaces space -> master interface pin (address spaces of AXI masters)
#   segs   interface/segment -> slave interface pin
# Interfaces and pins that the current parameters switch off are absent.
proc ::stub::model {cell} {
    variable cells
    variable hls_kernels
    set vlnv [dict get $cells $cell vlnv]
    set intf {}
    set pins {}
    set spaces {}
    set segs {}
    switch -glob -- $vlnv {
        xilinx.com:ip:processing_system7:* {
            dict set intf DDR {other other 0}
            dict set intf FIXED_IO {other other 0}
            dict set pins FCLK_CLK0 {out clk}
            dict set pins FCLK_RESET0_N {out rst}
            if {[config_of $cell PCW_USE_M_AXI_GP0 0] == 1} {
                dict set intf M_AXI_GP0 {master aximm 0}
                dict set pins M_AXI_GP0_ACLK {in clk}
                dict set spaces Data M_AXI_GP0
            }
            foreach n {0 1 2 3} {
                if {[config_of $cell PCW_USE_S_AXI_HP$n 0] == 1} {
                    dict set intf S_AXI_HP$n {slave aximm 0}
                    dict set pins S_AXI_HP${n}_ACLK {in clk}
                    dict set segs S_AXI_HP$n/HP${n}_DDR_LOWOCM S_AXI_HP$n
                }
            }
        }
        xilinx.com:ip:axi_dma:* {
            # Vivado's default is scatter-gather mode (c_include_sg 1); the lab
            # uses direct register mode, where the SG port disappears.
            if {[config_of $cell c_include_sg 1] == 1} {
                dict set intf M_AXI_SG {master aximm 0}
                dict set spaces Data_SG M_AXI_SG
                dict set pins m_axi_sg_aclk {in clk}
            }
            dict set intf S_AXI_LITE {slave aximm 0}
            dict set segs S_AXI_LITE/Reg S_AXI_LITE
            dict set pins s_axi_lite_aclk {in clk}
            dict set pins axi_resetn {in rst}
            if {[config_of $cell c_include_mm2s 1] == 1} {
                dict set intf M_AXI_MM2S {master aximm 0}
                dict set intf M_AXIS_MM2S [list master axis [expr {[config_of $cell c_m_axis_mm2s_tdata_width 32] / 8}]]
                dict set spaces Data_MM2S M_AXI_MM2S
                dict set pins m_axi_mm2s_aclk {in clk}
                dict set pins mm2s_introut {out intr}
                dict set pins mm2s_prmry_reset_out_n {out rst}
            }
            if {[config_of $cell c_include_s2mm 1] == 1} {
                dict set intf M_AXI_S2MM {master aximm 0}
                dict set intf S_AXIS_S2MM [list slave axis [expr {[config_of $cell c_s_axis_s2mm_tdata_width 32] / 8}]]
                dict set spaces Data_S2MM M_AXI_S2MM
                dict set pins m_axi_s2mm_aclk {in clk}
                dict set pins s2mm_introut {out intr}
                dict set pins s2mm_prmry_reset_out_n {out rst}
            }
        }
        xilinx.com:ip:axis_data_fifo:* {
            set bytes [config_of $cell TDATA_NUM_BYTES 1]
            dict set intf S_AXIS [list slave axis $bytes]
            dict set intf M_AXIS [list master axis $bytes]
            dict set pins s_axis_aclk {in clk}
            dict set pins s_axis_aresetn {in rst}
        }
        xilinx.com:ip:proc_sys_reset:* {
            dict set pins slowest_sync_clk {in clk}
            dict set pins ext_reset_in {in rst}
            dict set pins aux_reset_in {in rst_optional}
            dict set pins mb_debug_sys_rst {in rst_optional}
            dict set pins dcm_locked {in data_optional}
            dict set pins mb_reset {out rst}
            dict set pins bus_struct_reset {out rst}
            dict set pins peripheral_reset {out rst}
            dict set pins interconnect_aresetn {out rst}
            dict set pins peripheral_aresetn {out rst}
        }
        xilinx.com:ip:axi_interconnect:* {
            dict set pins ACLK {in clk}
            dict set pins ARESETN {in rst}
            for {set i 0} {$i < [config_of $cell NUM_SI 1]} {incr i} {
                dict set intf [format S%02d_AXI $i] {slave aximm 0}
                dict set pins [format S%02d_ACLK $i] {in clk}
                dict set pins [format S%02d_ARESETN $i] {in rst}
            }
            for {set i 0} {$i < [config_of $cell NUM_MI 2]} {incr i} {
                dict set intf [format M%02d_AXI $i] {master aximm 0}
                dict set pins [format M%02d_ACLK $i] {in clk}
                dict set pins [format M%02d_ARESETN $i] {in rst}
            }
        }
        xilinx.com:ip:smartconnect:* {
            dict set pins aclk {in clk}
            dict set pins aresetn {in rst}
            for {set i 0} {$i < [config_of $cell NUM_SI 1]} {incr i} {
                dict set intf [format S%02d_AXI $i] {slave aximm 0}
            }
            for {set i 0} {$i < [config_of $cell NUM_MI 1]} {incr i} {
                dict set intf [format M%02d_AXI $i] {master aximm 0}
            }
        }
        xilinx.com:hls:* {
            set kernel [hls_name $vlnv]
            set ports [dict get $hls_kernels $kernel]
            dict set pins ap_clk {in clk}
            dict set pins ap_rst_n {in rst}
            if {[dict exists $ports s_axi_control] && [dict get $ports s_axi_control] eq "none"} {
                # ap_ctrl_none without scalars: Vitis HLS makes no AXI-Lite block and no interrupt
                dict unset ports s_axi_control
            } else {
                dict set intf s_axi_control {slave aximm 0}
                dict set segs s_axi_control/Reg s_axi_control
                dict set pins interrupt {out intr}
            }
            dict for {port info} $ports {
                dict set intf $port $info
                if {[lindex $info 1] eq "aximm"} {
                    dict set spaces Data_$port $port
                }
            }
        }
        default {
            fail "no model for IP $vlnv"
        }
    }
    return [dict create intf $intf pins $pins spaces $spaces segs $segs]
}

# Check one CONFIG value the way the IP's own GUI rules would.
proc ::stub::check_parameter {cell vlnv name value} {
    variable dma_parameters
    set fail_value [list ::stub::fail "$cell: CONFIG.$name = '$value' is not a legal value"]
    switch -glob -- $vlnv {
        xilinx.com:ip:processing_system7:* {
            if {![string match PCW_* $name]} {
                fail "$cell: processing_system7 has no parameter $name (its parameters are PCW_*)"
            }
            if {[string match PCW_USE_* $name] && $value ni {0 1}} { {*}$fail_value }
            if {[regexp {^PCW_S_AXI_HP\d_DATA_WIDTH$} $name] && $value ni {32 64}} { {*}$fail_value }
            if {[string match *_FREQMHZ $name] && ![string is double -strict $value]} { {*}$fail_value }
        }
        xilinx.com:ip:axi_dma:* {
            if {$name ni $dma_parameters} {
                fail "$cell: axi_dma 7.1 has no user parameter $name"
            }
            switch -glob -- $name {
                c_m_axis_mm2s_tdata_width - c_s_axis_s2mm_tdata_width {
                    if {$value ni {8 16 32 64 128 256 512 1024}} { {*}$fail_value }
                }
                c_m_axi_*_data_width {
                    if {$value ni {32 64 128 256 512 1024}} { {*}$fail_value }
                }
                c_*_burst_size {
                    if {$value ni {2 4 8 16 32 64 128 256}} { {*}$fail_value }
                }
                c_sg_length_width {
                    if {![string is integer -strict $value] || $value < 8 || $value > 26} { {*}$fail_value }
                }
                c_addr_width {
                    if {![string is integer -strict $value] || $value < 32 || $value > 64} { {*}$fail_value }
                }
                default {
                    if {![string is integer -strict $value]} { {*}$fail_value }
                }
            }
        }
        xilinx.com:ip:axis_data_fifo:* {
            switch -- $name {
                FIFO_DEPTH {
                    if {![string is integer -strict $value] || ![power_of_two $value]
                        || $value < 16 || $value > 32768} { {*}$fail_value }
                }
                TDATA_NUM_BYTES {
                    if {![string is integer -strict $value] || $value < 1 || $value > 512} { {*}$fail_value }
                }
                HAS_TLAST - HAS_TKEEP - HAS_TSTRB {
                    if {$value ni {0 1}} { {*}$fail_value }
                }
                default {
                    fail "$cell: the stub's axis_data_fifo model has no parameter $name"
                }
            }
        }
        xilinx.com:ip:axi_interconnect:* - xilinx.com:ip:smartconnect:* {
            switch -- $name {
                NUM_SI {
                    if {![string is integer -strict $value] || $value < 1 || $value > 16} { {*}$fail_value }
                }
                NUM_MI {
                    if {![string is integer -strict $value] || $value < 1 || $value > 64} { {*}$fail_value }
                }
                default {
                    fail "$cell: the stub's interconnect model has no parameter $name"
                }
            }
        }
        xilinx.com:ip:proc_sys_reset:* {
            fail "$cell: the stub's proc_sys_reset model has no parameter $name"
        }
        xilinx.com:hls:* {
            fail "$cell: a Vitis HLS IP has no user parameter $name; Vitis HLS fixes it\
                  from the C++ (change the kernel, not the block design)"
        }
    }
}

# ------------------------------------------------------------------------------
# Project-level commands
# ------------------------------------------------------------------------------
proc ::version {args} {
    lassign [::stub::parse version {-short 0} $args] options positional
    return $::stub::vivado_version
}

proc ::set_param {args} {
    lassign [::stub::parse set_param {} $args] options positional
    if {[llength $positional] != 2} {
        ::stub::fail "set_param: expected <name> <value>"
    }
    lassign $positional name value
    if {$name ni {board.repoPaths general.maxThreads}} {
        ::stub::fail "set_param: parameter $name is not modelled"
    }
    dict set ::stub::params $name $value
    ::stub::step set_param
    return ""
}

proc ::get_board_parts {args} {
    lassign [::stub::parse get_board_parts {-latest_file_version 0 -filter 1} $args] options positional
    set result {}
    foreach candidate $::stub::board_parts_installed {
        if {![llength $positional]} {
            lappend result $candidate
            continue
        }
        foreach pattern $positional {
            if {[string match $pattern $candidate]} {
                lappend result $candidate
            }
        }
    }
    if {![llength $result] && ![dict exists $options -quiet]} {
        puts "WARNING: \[Vivado 12-1023\] No board parts matched '$positional'"
    }
    return $result
}

proc ::create_project {args} {
    lassign [::stub::parse create_project {-part 1 -force 0 -in_memory 0 -ip 0 -rtl_kernel 0} $args] \
        options positional
    if {[dict size $::stub::project]} {
        ::stub::fail "create_project: a project is already open"
    }
    if {[llength $positional] != 2} {
        ::stub::fail "create_project: expected <name> <dir>, got '$positional'"
    }
    if {![dict exists $options -part]} {
        ::stub::fail "create_project: no -part given"
    }
    set ::stub::project [dict create name [lindex $positional 0] dir [lindex $positional 1] \
        part [dict get $options -part] board_part "" ip_repo_paths {}]
    ::stub::step create_project
    return [lindex $positional 0]
}

proc ::current_project {args} {
    lassign [::stub::parse current_project {} $args] options positional
    ::stub::need_project current_project
    return [dict get $::stub::project name]
}

proc ::current_fileset {args} {
    lassign [::stub::parse current_fileset {-simset 0 -constrset 0} $args] options positional
    ::stub::need_project current_fileset
    return sources_1
}

proc ::update_ip_catalog {args} {
    lassign [::stub::parse update_ip_catalog {-rebuild 0 -scan_changes 0 -repo_path 1} $args] options positional
    ::stub::need_project update_ip_catalog
    set ::stub::catalog_updated 1
    ::stub::step update_ip_catalog
    return ""
}

proc ::get_ipdefs {args} {
    lassign [::stub::parse get_ipdefs {-all 0 -filter 1} $args] options positional
    set result {}
    foreach vlnv $positional {
        if {[::stub::in_catalog $vlnv]} {
            lappend result $vlnv
        }
    }
    return $result
}

proc ::get_files {args} {
    lassign [::stub::parse get_files {-of_objects 1 -filter 1 -all 0 -compile_order 0 -used_in 1} $args] \
        options positional
    ::stub::need_project get_files
    set result {}
    foreach pattern $positional {
        foreach file $::stub::files {
            if {[string match $pattern [file tail $file]] || [string match $pattern $file]} {
                lappend result $file
            }
        }
    }
    if {![llength $result] && ![dict exists $options -quiet]} {
        ::stub::fail "get_files: no file matches '$positional' (known: $::stub::files)"
    }
    return $result
}

proc ::add_files {args} {
    lassign [::stub::parse add_files {-norecurse 0 -fileset 1 -scan_for_includes 0} $args] options positional
    ::stub::need_project add_files
    foreach file $positional {
        if {$file eq ""} {
            ::stub::fail "add_files: empty file name"
        }
        lappend ::stub::files $file
    }
    ::stub::step add_files
    return $positional
}

proc ::update_compile_order {args} {
    lassign [::stub::parse update_compile_order {-fileset 1} $args] options positional
    ::stub::need_project update_compile_order
    ::stub::step update_compile_order
    return ""
}

# ------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------
proc ::stub::object_kind {object} {
    variable project
    variable cells
    set name [strip $object]
    if {[dict size $project] && $object eq [dict get $project name]} {
        return project
    }
    if {$object eq "sources_1"} {
        return fileset
    }
    if {[dict exists $cells $name]} {
        return cell
    }
    fail "no object '$object' (the stub knows the project, sources_1 and the bd cells)"
}

proc ::stub::set_one {object name value} {
    variable project
    variable cells
    set kind [object_kind $object]
    switch -- $kind {
        project {
            switch -- $name {
                board_part {
                    if {$value ni $::stub::board_parts_installed} {
                        fail "set_property board_part: board part '$value' is not installed"
                    }
                    dict set project board_part $value
                }
                ip_repo_paths {
                    dict set project ip_repo_paths $value
                    set ::stub::catalog_updated 0
                }
                default {
                    fail "set_property: project property $name is not modelled"
                }
            }
        }
        fileset {
            if {$name ne "top"} {
                fail "set_property: fileset property $name is not modelled"
            }
            set ::stub::top $value
        }
        cell {
            set cell [strip $object]
            if {![string match CONFIG.* $name]} {
                fail "set_property: cell property $name is not modelled (only CONFIG.*)"
            }
            set parameter [string range $name 7 end]
            check_parameter $cell [dict get $cells $cell vlnv] $parameter $value
            dict set cells $cell config $parameter $value
        }
    }
}

proc ::set_property {args} {
    lassign [::stub::parse set_property {-dict 1 -name 1 -value 1 -objects 1} $args] options positional
    if {[dict exists $options -dict]} {
        set pairs [dict get $options -dict]
        set objects $positional
    } else {
        if {[llength $positional] < 3} {
            ::stub::fail "set_property: expected <name> <value> <objects>"
        }
        set pairs [lrange $positional 0 1]
        set objects [lrange $positional 2 end]
    }
    if {[llength $pairs] % 2} {
        ::stub::fail "set_property: odd name/value list '$pairs'"
    }
    set objects [concat {*}$objects]
    if {![llength $objects]} {
        ::stub::fail "set_property: no objects given"
    }
    foreach object $objects {
        foreach {name value} $pairs {
            ::stub::set_one $object $name $value
        }
    }
    ::stub::step set_property
    return ""
}

proc ::get_property {args} {
    lassign [::stub::parse get_property {-min 0 -max 0} $args] options positional
    if {[llength $positional] != 2} {
        ::stub::fail "get_property: expected <name> <object>"
    }
    lassign $positional name objects
    if {[llength $objects] != 1} {
        ::stub::fail "get_property: expected exactly one object, got '$objects'"
    }
    set kind [::stub::object_kind [lindex $objects 0]]
    set object [::stub::strip [lindex $objects 0]]
    set value ""
    if {$kind eq "cell" && [string match CONFIG.* $name]} {
        set parameter [string range $name 7 end]
        set vlnv [dict get $::stub::cells $object vlnv]
        if {[dict exists $::stub::cells $object config $parameter]} {
            set value [dict get $::stub::cells $object config $parameter]
        } elseif {[string match xilinx.com:hls:* $vlnv]} {
            if {[dict exists $::stub::hls_generated $object $parameter]} {
                set value [dict get $::stub::hls_generated $object $parameter]
            }
        } else {
            # Defaults the stub's models use.
            switch -glob -- "$vlnv $parameter" {
                "*axi_interconnect* NUM_SI" { set value 1 }
                "*axi_interconnect* NUM_MI" { set value 2 }
            }
        }
        if {$value eq "" && ![dict exists $options -quiet] && ![string match xilinx.com:hls:* $vlnv]} {
            ::stub::fail "get_property: $object has no value for $name in the stub"
        }
    } elseif {$kind eq "project" && $name in {board_part part}} {
        set value [dict get $::stub::project $name]
    } else {
        ::stub::fail "get_property $name on $kind $object is not modelled"
    }
    lappend ::stub::reads [list $object $name $value]
    return $value
}

# ------------------------------------------------------------------------------
# Block design: cells, pins, nets
# ------------------------------------------------------------------------------
proc ::create_bd_design {args} {
    lassign [::stub::parse create_bd_design {-dir 1 -mode 1 -cell 1} $args] options positional
    ::stub::need_project create_bd_design
    if {$::stub::design ne ""} {
        ::stub::fail "create_bd_design: design $::stub::design is already open"
    }
    if {[llength $positional] != 1} {
        ::stub::fail "create_bd_design: expected <name>"
    }
    set ::stub::design [lindex $positional 0]
    set dir [dict get $::stub::project dir]
    set name [dict get $::stub::project name]
    lappend ::stub::files "$dir/$name.srcs/sources_1/bd/$::stub::design/$::stub::design.bd"
    ::stub::step create_bd_design
    return $::stub::design
}

proc ::current_bd_design {args} {
    lassign [::stub::parse current_bd_design {} $args] options positional
    return $::stub::design
}

proc ::create_bd_cell {args} {
    lassign [::stub::parse create_bd_cell {-type 1 -vlnv 1 -reference 1} $args] options positional
    ::stub::need_design create_bd_cell
    if {[llength $positional] != 1} {
        ::stub::fail "create_bd_cell: expected one cell name, got '$positional'"
    }
    set name [::stub::strip [lindex $positional 0]]
    if {[dict exists $options -type] && [dict get $options -type] ne "ip"} {
        ::stub::fail "create_bd_cell: only -type ip is modelled"
    }
    if {![dict exists $options -vlnv]} {
        ::stub::fail "create_bd_cell $name: no -vlnv"
    }
    set vlnv [dict get $options -vlnv]
    if {[llength [split $vlnv :]] != 4} {
        ::stub::fail "create_bd_cell $name: '$vlnv' is not a full vendor:library:name:version"
    }
    if {![::stub::in_catalog $vlnv]} {
        ::stub::fail "create_bd_cell $name: $vlnv is not in the IP catalog\
                      (an HLS IP needs ip_repo_paths and update_ip_catalog first)"
    }
    if {![regexp {^[A-Za-z][A-Za-z0-9_]*$} $name]} {
        ::stub::fail "create_bd_cell: '$name' is not a legal cell name"
    }
    if {[dict exists $::stub::cells $name]} {
        ::stub::fail "create_bd_cell: a cell named $name already exists"
    }
    dict set ::stub::cells $name [dict create vlnv $vlnv config {}]
    lappend ::stub::cell_order $name
    ::stub::step create_bd_cell
    return /$name
}

proc ::get_bd_cells {args} {
    lassign [::stub::parse get_bd_cells {-hierarchical 0 -filter 1 -of_objects 1} $args] options positional
    ::stub::need_design get_bd_cells
    if {![llength $positional]} {
        return [lmap name $::stub::cell_order {string cat / $name}]
    }
    set result {}
    foreach pattern $positional {
        set pattern [::stub::strip $pattern]
        foreach name $::stub::cell_order {
            if {[string match $pattern $name]} {
                lappend result /$name
            }
        }
    }
    if {![llength $result] && ![dict exists $options -quiet]} {
        ::stub::fail "get_bd_cells: no cell matches '$positional'"
    }
    return $result
}

# "cell/pin" -> {cell pin}, checking both exist.
proc ::stub::split_pin {command path kind} {
    variable cells
    set path [strip $path]
    set parts [split $path /]
    if {[llength $parts] != 2} {
        fail "$command: '$path' is not <cell>/<pin>"
    }
    lassign $parts cell name
    if {![dict exists $cells $cell]} {
        fail "$command: no cell $cell (for $path)"
    }
    set table [dict get [model $cell] $kind]
    if {![dict exists $table $name]} {
        set what [dict get {intf "interface pin" pins pin spaces "address space" segs segment} $kind]
        fail "$command: [dict get $cells $cell vlnv] instance $cell has no $what $name\
              (it has: [lsort [dict keys $table]])"
    }
    return [list $cell $name]
}

proc ::get_bd_intf_pins {args} {
    lassign [::stub::parse get_bd_intf_pins {-of_objects 1 -filter 1} $args] options positional
    ::stub::need_design get_bd_intf_pins
    set result {}
    foreach path $positional {
        ::stub::split_pin get_bd_intf_pins $path intf
        lappend result /[::stub::strip $path]
    }
    return $result
}

proc ::get_bd_pins {args} {
    lassign [::stub::parse get_bd_pins {-of_objects 1 -filter 1} $args] options positional
    ::stub::need_design get_bd_pins
    set result {}
    foreach path $positional {
        ::stub::split_pin get_bd_pins $path pins
        lappend result /[::stub::strip $path]
    }
    return $result
}

proc ::connect_bd_intf_net {args} {
    lassign [::stub::parse connect_bd_intf_net {-intf_net 1 -boundary_type 1} $args] options positional
    ::stub::need_design connect_bd_intf_net
    set objects [concat {*}$positional]
    if {[llength $objects] != 2} {
        ::stub::fail "connect_bd_intf_net: expected two interface pins, got '$objects'"
    }
    set ends {}
    foreach object $objects {
        lassign [::stub::split_pin connect_bd_intf_net $object intf] cell name
        set path $cell/$name
        if {[dict exists $::stub::intf_peer $path]} {
            ::stub::fail "connect_bd_intf_net: $path is already connected to [dict get $::stub::intf_peer $path]"
        }
        lappend ends [list $path {*}[dict get [::stub::model $cell] intf $name]]
    }
    lassign $ends a b
    lassign $a path_a mode_a protocol_a
    lassign $b path_b mode_b protocol_b
    if {$protocol_a ne $protocol_b} {
        ::stub::fail "connect_bd_intf_net: $path_a ($protocol_a) and $path_b ($protocol_b) speak different protocols"
    }
    if {[lsort [list $mode_a $mode_b]] ne {master slave}} {
        ::stub::fail "connect_bd_intf_net: $path_a is $mode_a and $path_b is $mode_b; a net joins a master to a slave"
    }
    dict set ::stub::intf_peer $path_a $path_b
    dict set ::stub::intf_peer $path_b $path_a
    lappend ::stub::intf_nets [list $path_a $path_b]
    ::stub::step connect_bd_intf_net
    return ""
}

proc ::connect_bd_net {args} {
    lassign [::stub::parse connect_bd_net {-net 1} $args] options positional
    ::stub::need_design connect_bd_net
    set objects [concat {*}$positional]
    if {[llength $objects] < 2} {
        ::stub::fail "connect_bd_net: expected at least two pins, got '$objects'"
    }
    set pins {}
    set drivers {}
    foreach object $objects {
        lassign [::stub::split_pin connect_bd_net $object pins] cell name
        set path $cell/$name
        if {[dict exists $::stub::pin_net $path]} {
            ::stub::fail "connect_bd_net: $path is already on another net"
        }
        if {$path in $pins} {
            ::stub::fail "connect_bd_net: $path given twice"
        }
        lappend pins $path
        if {[lindex [dict get [::stub::model $cell] pins $name] 0] eq "out"} {
            lappend drivers $path
        }
    }
    if {[llength $drivers] != 1} {
        ::stub::fail "connect_bd_net: a net needs exactly one driver (output pin); got '$drivers' in '$pins'"
    }
    set index [llength $::stub::nets]
    lappend ::stub::nets $pins
    foreach path $pins {
        dict set ::stub::pin_net $path $index
    }
    ::stub::step connect_bd_net
    return ""
}

proc ::apply_bd_automation {args} {
    lassign [::stub::parse apply_bd_automation {-rule 1 -config 1 -opts 1} $args] options positional
    ::stub::need_design apply_bd_automation
    set rule [dict get $options -rule]
    set config [expr {[dict exists $options -config] ? [dict get $options -config] : {}}]
    set cell [::stub::one apply_bd_automation [concat {*}$positional] cell]
    if {$rule ne "xilinx.com:bd_rule:processing_system7"} {
        ::stub::fail "apply_bd_automation: rule $rule is not modelled (connect things explicitly)"
    }
    if {![string match xilinx.com:ip:processing_system7:* [dict get $::stub::cells $cell vlnv]]} {
        ::stub::fail "apply_bd_automation: rule $rule applies to a processing_system7, not $cell"
    }
    foreach {key value} $config {
        switch -- $key {
            make_external {
                foreach port [split $value ,] {
                    set port [string trim $port]
                    if {$port ni {DDR FIXED_IO}} {
                        ::stub::fail "apply_bd_automation: cannot make $port external"
                    }
                    lappend ::stub::external $cell/$port
                }
            }
            apply_board_preset {
                if {$value == 1 && [dict get $::stub::project board_part] eq ""} {
                    ::stub::fail "apply_bd_automation: apply_board_preset needs a board_part on the project"
                }
                if {$value == 1 && [llength [dict get $::stub::cells $cell config]]} {
                    ::stub::fail "apply_bd_automation: the board preset would overwrite the CONFIG\
                                  already set on $cell; set them after the automation"
                }
            }
            Master - Slave {
                if {$value ne "Disable"} {
                    ::stub::fail "apply_bd_automation: $key $value would add cells the stub does not model"
                }
            }
            default {
                ::stub::fail "apply_bd_automation: option $key is not modelled"
            }
        }
    }
    lappend ::stub::automation [list $rule $config $cell]
    ::stub::step apply_bd_automation
    return ""
}

# ------------------------------------------------------------------------------
# Addresses
# ------------------------------------------------------------------------------
proc ::get_bd_addr_spaces {args} {
    lassign [::stub::parse get_bd_addr_spaces {-of_objects 1 -filter 1} $args] options positional
    ::stub::need_design get_bd_addr_spaces
    set result {}
    foreach path $positional {
        lassign [::stub::split_pin get_bd_addr_spaces $path spaces] cell name
        lappend result /$cell/$name
    }
    return $result
}

proc ::get_bd_addr_segs {args} {
    lassign [::stub::parse get_bd_addr_segs {-of_objects 1 -filter 1 -excluded 0 -addressables 0} $args] \
        options positional
    ::stub::need_design get_bd_addr_segs
    set result {}
    foreach path $positional {
        set path [::stub::strip $path]
        set parts [split $path /]
        if {[llength $parts] != 3} {
            ::stub::fail "get_bd_addr_segs: '$path' is not <cell>/<interface>/<segment>"
        }
        set cell [lindex $parts 0]
        if {![dict exists $::stub::cells $cell]} {
            ::stub::fail "get_bd_addr_segs: no cell $cell"
        }
        set segs [dict get [::stub::model $cell] segs]
        set key [join [lrange $parts 1 2] /]
        if {![dict exists $segs $key]} {
            ::stub::fail "get_bd_addr_segs: $cell has no slave segment $key (it has: [dict keys $segs])"
        }
        lappend result /$path
    }
    return $result
}

# Slave interfaces a master interface reaches through the interface nets,
# passing through interconnects (any slave port to every master port).
proc ::stub::reachable {master} {
    variable intf_peer
    variable cells
    set found {}
    set todo [list $master]
    set seen {}
    while {[llength $todo]} {
        set todo [lassign $todo current]
        if {$current in $seen} {
            continue
        }
        lappend seen $current
        if {![dict exists $intf_peer $current]} {
            continue
        }
        set peer [dict get $intf_peer $current]
        lassign [split $peer /] cell
        set vlnv [dict get $cells $cell vlnv]
        if {[string match *:axi_interconnect:* $vlnv] || [string match *:smartconnect:* $vlnv]} {
            dict for {pin info} [dict get [model $cell] intf] {
                if {[lindex $info 0] eq "master"} {
                    lappend todo $cell/$pin
                }
            }
        } else {
            lappend found $peer
        }
    }
    return $found
}

proc ::stub::to_int {command value} {
    if {![string is wideinteger -strict $value]} {
        fail "$command: '$value' is not a number"
    }
    return [expr {wide($value)}]
}

# Vivado's "64K", "512M", "1G" and plain numbers.
proc ::stub::size {command value} {
    if {[regexp {^(\d+)([KMG])$} $value -> number unit]} {
        return [expr {wide($number) << [dict get {K 10 M 20 G 30} $unit]}]
    }
    return [to_int $command $value]
}

proc ::assign_bd_address {args} {
    lassign [::stub::parse assign_bd_address {-offset 1 -range 1 -target_address_space 1 -force 0
        -export_to_file 1 -import_from_file 1 -with_name 1 -external 0 -dict 1 -export_gui_to_file 1} $args] \
        options positional
    ::stub::need_design assign_bd_address
    foreach required {-offset -range -target_address_space} {
        if {![dict exists $options $required]} {
            ::stub::fail "assign_bd_address: give $required explicitly (the lab fixes every address)"
        }
    }
    set offset [::stub::to_int assign_bd_address [dict get $options -offset]]
    set range [::stub::size assign_bd_address [dict get $options -range]]
    set space [::stub::one assign_bd_address [dict get $options -target_address_space] "address space"]
    set segment [::stub::one assign_bd_address [concat {*}$positional] "address segment"]
    lassign [::stub::split_pin assign_bd_address $space spaces] space_cell space_name
    set segment_cell [lindex [split $segment /] 0]
    set segment_key [join [lrange [split $segment /] 1 end] /]
    get_bd_addr_segs $segment
    if {![::stub::power_of_two $range] || $range < 4096} {
        ::stub::fail "assign_bd_address: range [format %#x $range] for $segment is not a power of two >= 4K"
    }
    if {$offset % $range} {
        ::stub::fail "assign_bd_address: offset [format %#x $offset] of $segment is not aligned to its range [format %#x $range]"
    }
    # The segment must be reachable from the address space's master interface.
    set master $space_cell/[dict get [::stub::model $space_cell] spaces $space_name]
    set slave $segment_cell/[dict get [::stub::model $segment_cell] segs $segment_key]
    if {$slave ni [::stub::reachable $master]} {
        ::stub::fail "assign_bd_address: $segment is not reachable from $space ($master is not connected to $slave)"
    }
    foreach entry $::stub::addresses {
        if {[dict get $entry space] ne $space} {
            continue
        }
        if {[dict get $entry segment] eq $segment} {
            ::stub::fail "assign_bd_address: $segment is already assigned in $space"
        }
        set lo [dict get $entry offset]
        set hi [expr {$lo + [dict get $entry range]}]
        if {$offset < $hi && $lo < $offset + $range} {
            ::stub::fail "assign_bd_address: $segment at [format %#x $offset] overlaps [dict get $entry segment] in $space"
        }
    }
    lappend ::stub::addresses [dict create space $space segment $segment offset $offset range $range]
    ::stub::step assign_bd_address
    return ""
}

# ------------------------------------------------------------------------------
# Validation, output products
# ------------------------------------------------------------------------------
proc ::stub::net_of {path} {
    variable pin_net
    if {[dict exists $pin_net $path]} {
        return [dict get $pin_net $path]
    }
    return -1
}

proc ::stub::driver_of {index} {
    variable nets
    foreach path [lindex $nets $index] {
        lassign [split $path /] cell name
        if {[lindex [dict get [model $cell] pins $name] 0] eq "out"} {
            return $path
        }
    }
    return ""
}

proc ::validate_bd_design {args} {
    lassign [::stub::parse validate_bd_design {-force 0 -design 1} $args] options positional
    ::stub::need_design validate_bd_design
    set problems {}
    foreach cell $::stub::cell_order {
        set model [::stub::model $cell]
        dict for {name info} [dict get $model pins] {
            lassign $info direction type
            set path $cell/$name
            set net [::stub::net_of $path]
            if {$direction eq "in" && $type in {clk rst}} {
                if {$net < 0} {
                    lappend problems "input $type pin $path is not connected"
                    continue
                }
                set driver [::stub::driver_of $net]
                set driver_type [lindex [dict get [::stub::model [lindex [split $driver /] 0]] pins \
                                          [lindex [split $driver /] 1]] 1]
                if {$driver_type ne $type} {
                    lappend problems "$type pin $path is driven by $driver ($driver_type)"
                }
            }
        }
        dict for {name info} [dict get $model intf] {
            set path $cell/$name
            if {[lindex $info 1] eq "other"} {
                if {$path ni $::stub::external} {
                    lappend problems "$path is neither connected nor external"
                }
            } elseif {![dict exists $::stub::intf_peer $path]} {
                lappend problems "interface $path is not connected"
            }
        }
    }
    # AXI-Stream widths must match across each net (BD 41-237 in Vivado).
    foreach net $::stub::intf_nets {
        lassign $net a b
        set info_a [dict get [::stub::model [lindex [split $a /] 0]] intf [lindex [split $a /] 1]]
        set info_b [dict get [::stub::model [lindex [split $b /] 0]] intf [lindex [split $b /] 1]]
        if {[lindex $info_a 1] eq "axis" && [lindex $info_a 2] != [lindex $info_b 2]} {
            lappend problems "TDATA_NUM_BYTES of $a ([lindex $info_a 2]) and $b ([lindex $info_b 2]) differ"
        }
    }
    # Every slave segment a master reaches must be assigned in its space.
    foreach cell $::stub::cell_order {
        dict for {space master} [dict get [::stub::model $cell] spaces] {
            foreach slave [::stub::reachable $cell/$master] {
                lassign [split $slave /] slave_cell slave_intf
                dict for {key intf} [dict get [::stub::model $slave_cell] segs] {
                    if {$intf ne $slave_intf} {
                        continue
                    }
                    set assigned 0
                    foreach entry $::stub::addresses {
                        if {[dict get $entry space] eq "$cell/$space" && [dict get $entry segment] eq "$slave_cell/$key"} {
                            set assigned 1
                        }
                    }
                    if {!$assigned} {
                        lappend problems "$slave_cell/$key is reachable from $cell/$space but not assigned"
                    }
                }
            }
        }
    }
    if {[llength $problems]} {
        ::stub::fail "validate_bd_design failed:\n  [join $problems "\n  "]"
    }
    set ::stub::validated 1
    ::stub::step validate_bd_design
    return ""
}

proc ::save_bd_design {args} {
    lassign [::stub::parse save_bd_design {} $args] options positional
    ::stub::need_design save_bd_design
    set ::stub::saved 1
    ::stub::step save_bd_design
    return ""
}

proc ::generate_target {args} {
    lassign [::stub::parse generate_target {-force 0 -compile_order 0} $args] options positional
    if {[llength $positional] != 2} {
        ::stub::fail "generate_target: expected <targets> <files>"
    }
    lassign $positional targets bd
    if {$targets ni {all {instantiation_template synthesis simulation implementation}}} {
        ::stub::fail "generate_target: targets '$targets' not modelled"
    }
    if {!$::stub::validated} {
        ::stub::fail "generate_target: the block design was never validated (validate_bd_design)"
    }
    if {!$::stub::saved} {
        ::stub::fail "generate_target: the block design was never saved (save_bd_design)"
    }
    set ::stub::generated 1
    ::stub::step generate_target
    return ""
}

proc ::make_wrapper {args} {
    lassign [::stub::parse make_wrapper {-files 1 -top 0 -testbench 0 -inst_template 0 -fileset 1 -import 0 -force 0} \
        $args] options positional
    if {![dict exists $options -files] || ![dict exists $options -top]} {
        ::stub::fail "make_wrapper: expected -files <bd> -top"
    }
    set dir [dict get $::stub::project dir]
    set name [dict get $::stub::project name]
    set ::stub::wrapper "$dir/$name.gen/sources_1/bd/$::stub::design/hdl/${::stub::design}_wrapper.v"
    ::stub::step make_wrapper
    return $::stub::wrapper
}

# ------------------------------------------------------------------------------
# Test hooks and the record
# ------------------------------------------------------------------------------

# lines "<cell> <parameter> <value>": what Vitis HLS generated, as
# get_property CONFIG.<parameter> will answer on that HLS cell.
proc ::stub::load_hls_generated {path} {
    variable hls_generated
    set channel [open $path r]
    while {[gets $channel line] >= 0} {
        set line [string trim $line]
        if {$line eq "" || [string match #* $line]} {
            continue
        }
        lassign $line cell parameter value
        dict set hls_generated $cell $parameter $value
    }
    close $channel
}

# A kernel the lab's tests generate (labkit generate): its interfaces as its C++ pragmas give them.
proc ::stub::add_hls_kernel {name interfaces} {
    variable hls_kernels
    dict set hls_kernels $name $interfaces
}

proc ::stub::no_board_files {} {
    variable board_parts_installed
    set board_parts_installed {}
}

proc ::stub::jstr {value} {
    set map [list \\ \\\\ \" \\\" \n \\n \r \\r \t \\t]
    return "\"[string map $map $value]\""
}

proc ::stub::jlist {items} {
    return "\[[join [lmap item $items {jstr $item}] ,]\]"
}

proc ::stub::jdict {pairs} {
    set parts {}
    foreach {key value} $pairs {
        lappend parts "[jstr $key]:[jstr $value]"
    }
    return "{[join $parts ,]}"
}

proc ::stub::json {} {
    variable project
    variable params
    variable design
    variable cells
    variable cell_order
    variable intf_nets
    variable nets
    variable external
    variable automation
    variable addresses
    variable reads
    variable steps
    set out {}
    lappend out "\"project\":{\"name\":[jstr [dict get $project name]],\"dir\":[jstr [dict get $project dir]],\
\"part\":[jstr [dict get $project part]],\"board_part\":[jstr [dict get $project board_part]],\
\"ip_repo_paths\":[jlist [dict get $project ip_repo_paths]],\"params\":[jdict $params]}"
    lappend out "\"design\":[jstr $design]"
    set parts {}
    foreach name $cell_order {
        set model [model $name]
        set intf {}
        dict for {pin info} [dict get $model intf] {
            lassign $info mode protocol bytes
            lappend intf "[jstr $pin]:{\"mode\":[jstr $mode],\"protocol\":[jstr $protocol],\"tdata_bytes\":$bytes}"
        }
        set pins {}
        dict for {pin info} [dict get $model pins] {
            lassign $info direction type
            lappend pins "[jstr $pin]:{\"direction\":[jstr $direction],\"type\":[jstr $type]}"
        }
        set spaces [jdict [dict get $model spaces]]
        set segs [jdict [dict get $model segs]]
        lappend parts "[jstr $name]:{\"vlnv\":[jstr [dict get $cells $name vlnv]],\
\"config\":[jdict [dict get $cells $name config]],\"interfaces\":{[join $intf ,]},\
\"pins\":{[join $pins ,]},\"address_spaces\":$spaces,\"segments\":$segs}"
    }
    lappend out "\"cells\":{[join $parts ,]}"
    lappend out "\"intf_nets\":\[[join [lmap net $intf_nets {jlist $net}] ,]\]"
    lappend out "\"nets\":\[[join [lmap net $nets {jlist $net}] ,]\]"
    lappend out "\"external\":[jlist $external]"
    lappend out "\"automation\":\[[join [lmap a $automation {jlist $a}] ,]\]"
    set parts {}
    foreach entry $addresses {
        lappend parts "{\"space\":[jstr [dict get $entry space]],\"segment\":[jstr [dict get $entry segment]],\
\"offset\":[dict get $entry offset],\"range\":[dict get $entry range]}"
    }
    lappend out "\"addresses\":\[[join $parts ,]\]"
    lappend out "\"reads\":\[[join [lmap r $reads {jlist $r}] ,]\]"
    lappend out "\"steps\":[jlist $steps]"
    lappend out "\"top\":[jstr $::stub::top]"
    lappend out "\"wrapper\":[jstr $::stub::wrapper]"
    lappend out "\"files\":[jlist $::stub::files]"
    return "{[join $out ,\n]}"
}
