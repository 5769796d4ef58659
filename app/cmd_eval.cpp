// `bft eval`: a generator on a dataset split: L1, PSNR and SSIM (averaged per sample), for depth
// also RMSE in metres; beside it the task's baselines scored the same way (depth: bicubic and
// joint bilateral upsampling; pose: the input image; texture: a nearest-colour fill of the
// patches); optionally a sheet of samples with the outputs.
#include "cli_args.h"
#include "commands.h"

#include "baselines.h"
#include "checkpoint.h"
#include "dataset.h"
#include "depth.h"
#include "errors.h"
#include "inference.h"
#include "metrics.h"
#include "runtime.h"
#include "synth.h"

#include <unistd.h>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace bft::cli {

int cmd_eval(int argc, char** argv)
{
    Args args("eval", "Evaluates a generator on a dataset split (see `bft dataset check`): L1, PSNR and SSIM per sample,\n"
                      "averaged; for depth also RMSE in metres; beside it the task's baselines (depth: bicubic and\n"
                      "joint bilateral upsampling; pose: the input image; texture: nearest-colour fill of the patches).");
    args.option("checkpoint", "FILE", "generator weights (.pth)")
        .option("data", "DIR", "the dataset folder")
        .option("split", "NAME", "which split", "val")
        .option("limit", "N", "evaluate at most N samples (0: all)", "0")
        .option("grid", "FILE", "also write a sheet of samples: input | guide | output | target (PNG)")
        .option("grid-count", "N", "rows of the sheet", "6")
        .option("device", "DEV", "cpu, cuda, cuda:N or auto", "auto")
        .option("precision", "fp32|bf16", "inference precision", "fp32")
        .option("fp32-math", "highest|high", kFp32MathHelp, "highest")
        .option("threads", "N", "CPU threads (0: all cores)", "0")
        .flag("json", "print the metrics as one JSON object");
    if (!args.parse(argc, argv))
        return 0;
    set_threads(args.get_int("threads", 0, 1024));
    configure_memory();
    const c10::Device device = resolve_device(args.get("device"));
    const DatasetInfo info = DatasetInfo::read(args.require("data"));
    LoadedGenerator g = load_generator(args.require("checkpoint"));
    g.net->to(device);
    const ArchSpec& s = g.net->spec();
    if (s.input_nc != info.input_nc || s.guide_nc != info.guide_nc || s.output_nc != info.output_nc)
        throw Error(args.get("checkpoint"), "takes " + std::to_string(s.input_nc) + "/" + std::to_string(s.guide_nc) +
                                                " channels and gives " + std::to_string(s.output_nc) +
                                                ", the dataset has " + std::to_string(info.input_nc) + "/" +
                                                std::to_string(info.guide_nc) + " -> " + std::to_string(info.output_nc));
    auto ids = sample_ids(info, args.get("split"));
    if (ids.empty())
        throw Error(info.root + "/" + args.get("split"), "no samples");
    const int limit = args.get_int("limit", 0, 100000000);
    if (limit > 0 && ids.size() > static_cast<size_t>(limit))
        ids.resize(static_cast<size_t>(limit));
    TranslateOptions options;
    options.precision = choose_precision(args.get("precision"), device);
    // Only where AMX products run (engine.h: amx_products_run; not in bf16, on CUDA or without AMX):
    // elsewhere the comparison below would run every sample twice for the same output.
    ForwardOptions asked;
    asked.precision = options.precision;
    asked.amx = fp32_math_high(args.get("fp32-math"));
    options.amx = amx_products_run(asked, device);

    // The model and the task's baselines, each scored the same way on the same samples.
    struct Score {
        double l1 = 0, psnr = 0, ssim = 0, rmse = 0;
        int psnr_n = 0;
        void add(const at::Tensor& out, const Sample& smp, const DatasetInfo& info)
        {
            l1 += metrics::l1(out, smp.target);
            const double p = metrics::psnr(out, smp.target);
            if (std::isfinite(p))
                psnr += p, ++psnr_n;
            ssim += metrics::ssim(out, smp.target);
            if (info.task == "depth")
                rmse += metrics::depth_rmse_m(out, smp.target, info.near_m, info.far_m);
        }
        std::string json(const DatasetInfo& info, int n) const
        {
            std::ostringstream j;
            j << std::setprecision(6) << "\"l1\": " << l1 / n << ", \"psnr_db\": " << (psnr_n ? psnr / psnr_n : 0)
              << ", \"ssim\": " << ssim / n;
            if (info.task == "depth")
                j << ", \"rmse_m\": " << rmse / n;
            return j.str();
        }
    };
    std::vector<std::string> baseline_names;
    if (info.task == "depth")
        baseline_names = {"bicubic", "joint_bilateral"};
    else if (info.task == "pose")
        baseline_names = {"input"};
    else if (info.task == "texture")
        baseline_names = {"nearest_colour"};
    Score model;
    std::vector<Score> base(baseline_names.size());
    double preview_psnr = 0;
    int preview_n = 0;
    int n = 0;
    const int grid_rows = args.has("grid") ? args.get_int("grid-count", 1, 1000) : 0;
    std::vector<Sample> grid;
    std::vector<at::Tensor> grid_out;
    const bool tty = ::isatty(STDERR_FILENO);
    for (const auto& id : ids) {
        const Sample smp = load_sample(info, args.get("split"), id);
        const at::Tensor out = translate(*g.net, smp.input, smp.guide, device, options).output[0];
        model.add(out, smp, info);
        if (options.precision != Precision::FP32 || options.amx) {
            // The fast preview's (or fp32-math high's) fidelity: its output against float32's.
            TranslateOptions exact = options;
            exact.precision = Precision::FP32;
            exact.amx = false;
            const double p = metrics::psnr(out, translate(*g.net, smp.input, smp.guide, device, exact).output[0]);
            if (std::isfinite(p))
                preview_psnr += p, ++preview_n;
        }
        if (info.task == "depth") {
            base[0].add(smp.input, smp, info); // bicubic: the upsampled input itself
            const depth::Range range{info.near_m, info.far_m};
            // Holes (NaN targets) become 0, "no reading", which the low-resolution map fills first.
            const at::Tensor low = baselines::low_resolution(at::nan_to_num(depth::to_metres(smp.target, range), 0.0), info.factor);
            const at::Tensor jbu = baselines::joint_bilateral_upsample(low, (smp.guide + 1) / 2);
            base[1].add(depth::to_unit(jbu, range), smp, info);
        } else if (info.task == "pose") {
            base[0].add(smp.input, smp, info);
        } else if (info.task == "texture") {
            base[0].add(baselines::nearest_colour_fill(smp.guide), smp, info);
        }
        if (static_cast<int>(grid.size()) < grid_rows) {
            grid.push_back(smp);
            grid_out.push_back(out);
        }
        ++n;
        if (tty)
            std::cerr << "\reval: " << n << "/" << ids.size() << std::flush;
    }
    if (tty)
        std::cerr << "\n";
    if (!grid.empty())
        synth::write_sample_sheet(info, grid, &grid_out, args.get("grid"));
    std::ostringstream j;
    j << std::setprecision(6) << "{\"checkpoint\": \"" << args.get("checkpoint") << "\", \"split\": \"" << args.get("split")
      << "\", \"samples\": " << n << ", " << model.json(info, n);
    if (info.task == "depth")
        j << ", \"bicubic_rmse_m\": " << base[0].rmse / n;
    if (preview_n > 0)
        j << ", \"psnr_vs_fp32_db\": " << preview_psnr / preview_n;
    j << ", \"baselines\": {";
    for (size_t b = 0; b < base.size(); ++b)
        j << (b ? ", " : "") << "\"" << baseline_names[b] << "\": {" << base[b].json(info, n) << "}";
    j << "}}";
    if (args.has("json")) {
        std::cout << j.str() << "\n";
        return 0;
    }
    auto row = [&](const std::string& name, const Score& sc) {
        std::cout << std::left << std::setw(18) << name << std::right << std::fixed << std::setprecision(4) << std::setw(8)
                  << sc.l1 / n << std::setprecision(2) << std::setw(9) << (sc.psnr_n ? sc.psnr / sc.psnr_n : 0)
                  << std::setprecision(4) << std::setw(8) << sc.ssim / n;
        if (info.task == "depth")
            std::cout << std::setw(10) << sc.rmse / n;
        std::cout << "\n";
    };
    std::cout << n << " samples of " << args.get("split") << "\n"
              << std::left << std::setw(18) << "" << std::right << std::setw(8) << "L1" << std::setw(9) << "PSNR dB"
              << std::setw(8) << "SSIM" << (info.task == "depth" ? "    RMSE m" : "") << "\n";
    row("model", model);
    if (preview_n > 0)
        std::cout << "(" << (options.amx ? "fp32-math high" : args.get("precision"))
                  << " output against fp32: PSNR " << std::setprecision(2) << preview_psnr / preview_n << " dB)\n";
    for (size_t b = 0; b < base.size(); ++b)
        row(baseline_names[b], base[b]);
    return 0;
}

} // namespace bft::cli
