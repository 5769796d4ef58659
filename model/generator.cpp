#include "generator.h"

#include "resnet_generators.h"
#include "unet_generators.h"

#include "errors.h"

namespace bft {

Generator make_generator(const ArchSpec& spec)
{
    spec.validate();
    switch (spec.arch) {
    case Arch::BftResnet: return std::make_shared<BftResnetImpl>(spec);
    case Arch::UftResnet: return std::make_shared<UftResnetImpl>(spec);
    case Arch::BftUnet: return std::make_shared<BftUnetImpl>(spec);
    case Arch::UftUnet: return std::make_shared<UftUnetImpl>(spec);
    }
    throw Error("unknown architecture");
}

} // namespace bft
