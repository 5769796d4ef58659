// `bft translate`: one forward pass from files to files, optionally dumping every gamma/beta map.
#include "cli_args.h"
#include "commands.h"

#include "checkpoint.h"
#include "errors.h"
#include "inference.h"
#include "npy.h"
#include "runtime.h"
#ifndef BFT_ENGINE_ONLY
#include "guide_files.h"
#include "image_io.h"
#include "live.h"
#endif

#include <sys/stat.h>

#include <iostream>

namespace bft::cli {

namespace {

#ifdef BFT_ENGINE_ONLY
// The engine-only build (no OpenCV) reads and writes .npy files alone.
struct ImageInfo {
    int bit_depth = 8;
};
#endif

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
        t = t.to(at::kFloat);
        if (!at::isfinite(t).all().item<bool>())
            throw Error(path, "contains NaN or infinite values");
        if (t.size(t.dim() - 3) != channels)
            throw Error(path, "has " + std::to_string(t.size(t.dim() - 3)) + " channels; the model takes " + std::to_string(channels));
        return t;
    }
#ifdef BFT_ENGINE_ONLY
    (void)info;
    throw Error(path, "this engine-only build of bft reads .npy files only");
#else
    if (!is_image_path(path))
        throw Error(path, "unknown file type (use .npy or an image: .png, .jpg, .bmp, .tif)");
    return read_image(path, channels, info);
#endif
}

#ifndef BFT_ENGINE_ONLY

// The editor's path, for the guide files the editor imports: OpenPose JSON (pose), a patch layout
// (texture), a depth map or points (depth). Runs live::LiveModel, as the editor does.
int translate_like_the_editor(const Args& args, const live::ModelInfo& info)
{
    const std::string checkpoint = args.require("checkpoint");
    const std::string output_path = args.require("output");
    live::LiveModel model;
    model.set_device(args.get("device") == "auto" ? (live::devices().size() > 1 ? live::devices()[1] : "cpu") : args.get("device"),
                     args.get_int("threads", 0, 1024));
    model.load(checkpoint, info.task);
    live::Request rq;
    rq.task = info.task;
    rq.bf16 = args.get("precision") == "bf16";
    rq.fp32_high = fp32_math_high(args.get("fp32-math"));
    rq.capture_film = args.has("film-dir");
    std::string note;
    switch (info.task) {
    case live::Task::Pose: {
        const std::string input = args.require("input"), guide = args.require("guide");
        rq.source = live::rgb8_from_unit(live::read_image(input, 3));
        rq.width = rq.source.width, rq.height = rq.source.height;
        rq.skeleton = live::read_pose_guide(guide, rq.width, rq.height, args.has("person") ? args.get_int("person", 0, 100000) : -1, &note);
        break;
    }
    case live::Task::Texture: {
        const std::string input = args.require("input"), guide = args.require("guide");
        rq.sketch = live::read_sketch(input);
        rq.width = rq.sketch.width, rq.height = rq.sketch.height;
        rq.patches = live::read_patch_layout(guide, rq.width, rq.height);
        break;
    }
    case live::Task::Depth: {
        const std::string guide = args.require("guide"), depth_file = args.require("depth");
        rq.source = live::rgb8_from_unit(live::read_image(guide, 3));
        rq.width = rq.source.width, rq.height = rq.source.height;
        rq.low_depth = live::read_depth_guide(depth_file, rq.width, rq.height, static_cast<float>(args.get_double("depth-scale", 1e-6, 1e9)));
        rq.range.near_m = static_cast<float>(args.get_double("near", 0, 1e6));
        rq.range.far_m = static_cast<float>(args.get_double("far", 1e-3, 1e6));
        if (!(rq.range.far_m > rq.range.near_m))
            throw UsageError("--far must be beyond --near");
        break;
    }
    }
    if (!note.empty())
        std::cerr << "note: " << note << "\n";
    const live::Result r = model.run(rq);
    if (info.task == live::Task::Depth) {
        if (lower_extension(output_path) != ".png" && lower_extension(output_path) != ".npy")
            throw UsageError("--output of a depth model must be .png (16-bit, millimetres) or .npy (metres)");
        live::write_depth(output_path, r.raw); // metres
    } else if (is_npy(output_path)) {
        live::write_npy(output_path, r.raw); // the network's values: RGB or Lab in [-1, 1]
    } else {
        live::write_image(output_path, live::unit_from_rgb8(r.image)); // what the editor shows (texture: Lab -> RGB)
    }
    if (args.has("film-dir")) {
        const std::string dir = args.get("film-dir");
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            throw Error(dir, "cannot create directory");
        for (const auto& [name, map] : r.film)
            live::write_npy(dir + "/" + name + ".npy", map);
        std::cerr << "wrote " << r.film.size() << " gamma/beta maps to " << dir << "\n";
    }
    return 0;
}
#endif

} // namespace

int cmd_translate(int argc, char** argv)
{
    Args args("translate",
              "Runs a generator on an input and a guide. .npy files are taken as they are (CHW or NCHW float32,\n"
              "values in [-1, 1]); images are mapped to [-1, 1] (RGB or grayscale, 8- or 16-bit). Any size\n"
              "works: inputs are padded by reflection to what the network takes and the result cropped back.\n"
              "The guide files the editor imports run as the editor runs them:\n"
              "  pose     --input person.png --guide pose.json [--person K]  (OpenPose JSON: COCO-18 or BODY_25,\n"
              "           pixel or normalised coordinates, scaled from its canvas to the image)\n"
              "  texture  --input sketch.png --guide patches.json            (the editor's patch layout)\n"
              "  depth    --guide rgb.png --depth low.png|low.npy|points.txt   (16-bit PNG in 1/--depth-scale m,\n"
              "           .npy in metres, or 'x y metres' lines; the output is depth: .png in mm or .npy in m)");
    args.option("checkpoint", "FILE", "generator weights (.pth)")
        .option("input", "FILE", "the input: .npy, or an image")
        .option("guide", "FILE", "the guide: .npy, or an image")
        .option("output", "FILE", "where to write the result: .npy, or an image (.png, .jpg, ...)")
        .option("film-dir", "DIR", "also write every gamma/beta map there as gamma_<dir>_L<k>.npy / beta_<dir>_L<k>.npy")
        .option("device", "DEV", "cpu, cuda, cuda:N or auto", "auto")
        .option("threads", "N", "CPU threads (0: all cores)", "0")
        .option("precision", "fp32|bf16", "fp32 (exact) or bf16 (fast preview; CPUs with AVX512-BF16, and CUDA)", "fp32")
        .option("fp32-math", "highest|high", kFp32MathHelp, "highest")
        .option("bit-depth", "8|16", "bit depth of an image output (16 needs .png or .tif); default: that of the input")
        .option("person", "K", "pose JSON with several people: the one to use, from 0 (default: the first)")
        .option("depth", "FILE", "depth models: the low-resolution depth (.png, .npy or points .txt/.csv) instead of --input")
        .option("depth-scale", "UNITS", "depth PNG units per metre (1000: millimetres; 5000: TUM)", "1000")
        .option("near", "M", "depth models: the depth that -1 stands for", "0")
        .option("far", "M", "depth models: the depth that 1 stands for", "10");
    if (!args.parse(argc, argv))
        return 0;
    const std::string checkpoint = args.require("checkpoint");
    // The guide files the editor imports take the editor's path; telling which needs the model's
    // task, so only then is the checkpoint inspected (it is read in full again by the load).
#ifdef BFT_ENGINE_ONLY
    if (args.has("depth"))
        throw UsageError("--depth needs the full build (this one is engine-only: .npy inputs)");
#else
    if (lower_extension(args.get("guide")) == ".json" || args.has("depth")) {
        const live::ModelInfo info = live::inspect(checkpoint);
        if (args.has("depth") && !(info.task_known && info.task == live::Task::Depth))
            throw UsageError("--depth is for depth models; " + checkpoint + " is not one");
        if (info.task_known && (args.has("depth") || info.task != live::Task::Depth))
            return translate_like_the_editor(args, info);
    }
#endif
    const std::string input_path = args.require("input");
    const std::string guide_path = args.require("guide");
    const std::string output_path = args.require("output");
    set_threads(args.get_int("threads", 0, 1024));
    configure_memory();
    const c10::Device device = resolve_device(args.get("device"));
#ifdef BFT_ENGINE_ONLY
    if (!is_npy(output_path))
        throw UsageError("--output must end in .npy (this engine-only build writes no images)");
#else
    if (!is_npy(output_path) && !is_image_path(output_path))
        throw UsageError("--output must end in .npy or an image extension (.png, .jpg, .bmp, .tif)");
#endif
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
    options.amx = fp32_math_high(args.get("fp32-math"));
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
#ifndef BFT_ENGINE_ONLY
        if (result.output.size(0) != 1)
            throw Error(output_path, "a batch of " + std::to_string(result.output.size(0)) + " results needs .npy output");
        write_image(output_path, result.output[0], bit_depth ? bit_depth : info.bit_depth);
#endif
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
