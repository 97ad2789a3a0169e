# run_hls.tcl -- Vitis HLS flow for ddr_rowsum: csim_design, csynth_design,
# export_design -format ip_catalog (VLNV xilinx.com:hls:ddr_rowsum:1.0).
#   cd hls/ddr_rowsum && vitis_hls -f run_hls.tcl
# The steps (open_project, set_top, add_files, add_files -tb, open_solution,
# set_part xc7z020clg400-1, create_clock -period 10, ...) are in
# ../common/lab_hls.tcl, shared by every kernel.
source [file join .. common lab_hls.tcl]
# 64-bit m_axi addresses: the Vivado IP flow of older Vitis HLS releases
# defaults to 32 bits, which would move rows/cols to 0x18/0x20. Forcing 64
# bits fixes the register map at src 0x10/0x14, dst 0x1C/0x20, rows 0x28,
# cols 0x30 on every release.
lab_hls_run ddr_rowsum {config_interface -m_axi_addr64}
exit
