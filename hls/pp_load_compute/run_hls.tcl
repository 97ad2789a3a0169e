# run_hls.tcl -- Vitis HLS flow for pp_load_compute: csim_design, csynth_design,
# export_design -format ip_catalog (VLNV xilinx.com:hls:pp_load_compute:1.0).
#   cd hls/pp_load_compute && vitis_hls -f run_hls.tcl
# The steps (open_project, set_top, add_files, add_files -tb, open_solution,
# set_part xc7z020clg400-1, create_clock -period 10, ...) are in
# ../common/lab_hls.tcl, shared by every kernel.
source [file join .. common lab_hls.tcl]
lab_hls_run pp_load_compute
exit
