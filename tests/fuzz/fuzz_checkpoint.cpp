// .pth checkpoints, both formats (legacy pickle stream, zip archive): the state dict, then the
// architecture inferred from it, as every loader does before building a network.
#include "fuzz_target.h"

#include "checkpoint.h"
#include "errors.h"

BFT_FUZZ_TARGET(checkpoint)
{
    const std::string path = bft::fuzz::scratch_file(data, size, "weights.pth");
    try {
        const bft::StateDict sd = bft::read_state_dict(path);
        bft::infer_arch(sd, path);
    } catch (const bft::Error&) {
    }
    return 0;
}
