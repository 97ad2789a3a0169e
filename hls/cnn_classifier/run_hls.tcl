# run_hls.tcl -- Vitis HLS flow for cnn_classifier: csim_design (self-test of
# cnn_classifier_tb.cpp), csynth_design, export_design -format ip_catalog
# (VLNV xilinx.com:hls:cnn_classifier:1.0).
#   cd hls/cnn_classifier && vitis_hls -f run_hls.tcl
# The steps (open_project, set_top, add_files, add_files -tb, open_solution,
# set_part xc7z020clg400-1, create_clock -period 10, ...) are in
# ../common/lab_hls.tcl, shared by every kernel. The directives (PIPELINE,
# UNROLL, ARRAY_PARTITION) are pragmas in cnn_classifier.cpp, on labelled
# loops (READ_BEATS, C1_KX, C2_KX, FC_X, WRITE_SCORES, ...), so the csynth
# report can be read against the cycle model in README.md.
source [file join .. common lab_hls.tcl]
lab_hls_run cnn_classifier
exit
