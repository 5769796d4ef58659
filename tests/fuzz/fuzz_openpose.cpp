// OpenPose JSON (COCO-18, BODY_25, normalised coordinates with a canvas, several people), then
// the keypoint maps the pose task makes of it.
#include "fuzz_target.h"

#include "errors.h"
#include "pose.h"

#include <ATen/ATen.h>

BFT_FUZZ_TARGET(openpose)
{
    try {
        const bft::pose::PoseFile f = bft::pose::parse_openpose_json(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
        for (const bft::pose::Pose& p : f.people)
            bft::pose::keypoint_maps(p, 32, 24);
    } catch (const bft::Error&) {
    }
    return 0;
}
