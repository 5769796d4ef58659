// Sparse depth points ("x y metres" lines), the depth guide's text format.
#include "fuzz_target.h"

#include "errors.h"
#include "guide_files.h"

BFT_FUZZ_TARGET(depth_points)
{
    const std::string path = bft::fuzz::scratch_file(data, size, "points.txt");
    try {
        bft::live::read_depth_guide(path, 64, 48);
    } catch (const bft::Error&) {
    }
    return 0;
}
