// Image files (source images, sketches, textures, depth PNGs): the header checks, then decoding.
#include "fuzz_target.h"

#include "errors.h"
#include "opencv_io.h"

BFT_FUZZ_TARGET(image)
{
    const std::string path = bft::fuzz::scratch_file(data, size, "image.png");
    try {
        bft::decode_image_file(path);
    } catch (const bft::Error&) {
    }
    return 0;
}
