// `bft translate`: one forward pass from files to files, optionally dumping every gamma/beta map.
#include "cli_args.h"
#include "commands.h"

#include "checkpoint.h"
#include "errors.h"
#include "image_io.h"
#include "inference.h"
#include "npy.h"
#include "runtime.h"

#include <sys/stat.h>

#include <iostream>

namespace bft::cli {

namespace {

bool is_npy(const std::string& path)
{
    return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
}

// A tensor from an .npy file (taken as it is) or an image (mapped to [-1, 1] with the channels the
// model takes). Errors name the file.
at::Tensor load_tensor(const std::string& path, int channels, ImageInfo* info)
{
    if (is_npy(path)) {
        at::Tensor t = read_npy(path);
        if (t.dim() != 3 && t.dim() != 4)
            throw Error(path, "expected a CHW or NCHW array, got " + std::to_string(t.dim()) + " dimensions");
        return t.to(at::kFloat);
    }
    if (!is_image_path(path))
        throw Error(path, "unknown file type (use .npy or an image: .png, .jpg, .bmp, .tif)");
    return read_image(path, channels, info);
}

} // namespace

int cmd_translate(int argc, char** argv)
{
    Args args("translate",
              "Runs a generator on an input and a guide. .npy files are taken as they are (CHW or NCHW float32,\n"
              "values in [-1, 1]); images are mapped to [-1, 1] (RGB or grayscale, 8- or 16-bit). Any size\n"
              "works: inputs are padded by reflection to what the network takes and the result cropped back.");
    args.option("checkpoint", "FILE", "generator weights (.pth)")
        .option("input", "FILE", "the input: .npy, or an image")
        .option("guide", "FILE", "the guide: .npy, or an image")
        .option("output", "FILE", "where to write the result: .npy, or an image (.png, .jpg, ...)")
        .option("film-dir", "DIR", "also write every gamma/beta map there as gamma_<dir>_L<k>.npy / beta_<dir>_L<k>.npy")
        .option("device", "DEV", "cpu, cuda, cuda:N or auto", "auto")
        .option("threads", "N", "CPU threads (0: all cores)", "0")
        .option("precision", "fp32|bf16", "fp32 (exact) or bf16 (fast preview; CPUs with AVX512-BF16, and CUDA)", "fp32")
        .option("bit-depth", "8|16", "bit depth of an image output (16 needs .png or .tif); default: that of the input");
    if (!args.parse(argc, argv))
        return 0;
    const std::string checkpoint = args.require("checkpoint");
    const std::string input_path = args.require("input");
    const std::string guide_path = args.require("guide");
    const std::string output_path = args.require("output");
    set_threads(args.get_int("threads", 0, 1024));
    configure_memory();
    const c10::Device device = resolve_device(args.get("device"));
    if (!is_npy(output_path) && !is_image_path(output_path))
        throw UsageError("--output must end in .npy or an image extension (.png, .jpg, .bmp, .tif)");
    int bit_depth = 0;
    if (args.has("bit-depth")) {
        bit_depth = args.get_int("bit-depth", 8, 16);
        if (bit_depth != 8 && bit_depth != 16)
            throw UsageError("--bit-depth must be 8 or 16");
    }

    LoadedGenerator g = load_generator(checkpoint);
    g.net->to(device);
    const ArchSpec& spec = g.net->spec();
    ImageInfo info;
    at::Tensor input = load_tensor(input_path, spec.input_nc, &info);
    at::Tensor guide = load_tensor(guide_path, spec.guide_nc, nullptr);

    TranslateOptions options;
    options.capture_film = args.has("film-dir");
    options.precision = choose_precision(args.get("precision"), device);
    Translation result;
    try {
        result = translate(*g.net, input, guide, device, options);
    } catch (const Error& e) {
        throw Error(input_path + " + " + guide_path, e.what());
    }

    if (is_npy(output_path)) {
        // Keep the layout the input came in: CHW in, CHW out.
        write_npy(output_path, input.dim() == 3 ? result.output[0] : result.output);
    } else {
        if (result.output.size(0) != 1)
            throw Error(output_path, "a batch of " + std::to_string(result.output.size(0)) + " results needs .npy output");
        write_image(output_path, result.output[0], bit_depth ? bit_depth : info.bit_depth);
    }
    if (args.has("film-dir")) {
        const std::string dir = args.get("film-dir");
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            throw Error(dir, "cannot create directory");
        for (const auto& [name, map] : result.film)
            write_npy(dir + "/" + name + ".npy", map);
        std::cerr << "wrote " << result.film.size() << " gamma/beta maps to " << dir << "\n";
    }
    return 0;
}

} // namespace bft::cli
