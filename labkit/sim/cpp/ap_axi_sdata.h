// ap_axi_sdata.h -- the AXI4-Stream side-channel struct of Vitis HLS, for C-simulation on the simulated board.
//
// Why this file exists: a user's kernel is compiled against Xilinx's real open-source ap_int.h,
// ap_fixed.h and hls_stream.h, taken from the hls4ml wheel (see labkit/sim/cpp_kernel.py). That
// wheel does not carry ap_axi_sdata.h, and no registry package does; this is the struct as
// UG1399 (Vitis HLS user guide, "AXI4-Stream Interfaces with Side-Channels") documents it:
// data, keep, strb, user, last, id, dest, with ap_uint fields of those widths. It holds data
// only: no behaviour of the real header beyond the fields is modelled.
#ifndef LABKIT_AP_AXI_SDATA_H
#define LABKIT_AP_AXI_SDATA_H

#include "ap_int.h"

template <int D, int U, int TI, int TD>
struct ap_axis {
    ap_int<D> data;
    ap_uint<(D + 7) / 8> keep;
    ap_uint<(D + 7) / 8> strb;
    ap_uint<(U > 0) ? U : 1> user;
    ap_uint<1> last;
    ap_uint<(TI > 0) ? TI : 1> id;
    ap_uint<(TD > 0) ? TD : 1> dest;
};

template <int D, int U, int TI, int TD>
struct ap_axiu {
    ap_uint<D> data;
    ap_uint<(D + 7) / 8> keep;
    ap_uint<(D + 7) / 8> strb;
    ap_uint<(U > 0) ? U : 1> user;
    ap_uint<1> last;
    ap_uint<(TI > 0) ? TI : 1> id;
    ap_uint<(TD > 0) ? TD : 1> dest;
};

#endif
