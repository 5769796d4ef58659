// NumPy .npy arrays (inputs, guides, depth maps, fixtures).
#include "fuzz_target.h"

#include "errors.h"
#include "npy.h"

#include <ATen/ATen.h>

BFT_FUZZ_TARGET(npy)
{
    try {
        bft::parse_npy(std::string(reinterpret_cast<const char*>(data), size), "fuzz.npy");
    } catch (const bft::Error&) {
    }
    return 0;
}
