"""Generated interfaces: from a small kernel spec to the HLS top, the Vivado Tcl, the simulated
design and a validated Python driver (``labkit generate SPEC -o DIR``; reference:
``docs/kernel_spec.md``).

After the paper "On how to efficiently implement Deep Learning algorithms on PYNQ platform"
(Stornaiuolo, Santambrogio, Sciuto): a dataflow kernel's data types and the number of values it
exchanges are known in advance, so its AXI-Stream interfaces, the DMA set-up and a Python wrapper
that casts and *verifies* its inputs can be generated instead of written by hand.
"""

from .spec import KernelSpec, SpecError, load_spec, spec_from_dict
from .writer import generate, generated_files, import_driver

__all__ = ["KernelSpec", "SpecError", "load_spec", "spec_from_dict", "generate", "generated_files", "import_driver"]
