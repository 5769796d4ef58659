// `bft eval`: a generator on a dataset split: L1, PSNR and SSIM (averaged per sample), for depth
// also RMSE in metres beside the bicubic baseline (the upsampled low-resolution input itself);
// optionally a sheet of samples with the outputs.
#include "cli_args.h"
#include "commands.h"

#include "checkpoint.h"
#include "dataset.h"
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
                      "averaged; for depth also RMSE in metres, beside the bicubic baseline (the upsampled input).");
    args.option("checkpoint", "FILE", "generator weights (.pth)")
        .option("data", "DIR", "the dataset folder")
        .option("split", "NAME", "which split", "val")
        .option("limit", "N", "evaluate at most N samples (0: all)", "0")
        .option("grid", "FILE", "also write a sheet of samples: input | guide | output | target (PNG)")
        .option("grid-count", "N", "rows of the sheet", "6")
        .option("device", "DEV", "cpu, cuda, cuda:N or auto", "auto")
        .option("precision", "fp32|bf16", "inference precision", "fp32")
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

    double l1 = 0, psnr = 0, ssim = 0, rmse = 0, rmse_base = 0;
    int n = 0, psnr_n = 0;
    const int grid_rows = args.has("grid") ? args.get_int("grid-count", 1, 1000) : 0;
    std::vector<Sample> grid;
    std::vector<at::Tensor> grid_out;
    const bool tty = ::isatty(STDERR_FILENO);
    for (const auto& id : ids) {
        const Sample smp = load_sample(info, args.get("split"), id);
        const at::Tensor out = translate(*g.net, smp.input, smp.guide, device, options).output[0];
        l1 += metrics::l1(out, smp.target);
        const double p = metrics::psnr(out, smp.target);
        if (std::isfinite(p))
            psnr += p, ++psnr_n;
        ssim += metrics::ssim(out, smp.target);
        if (info.task == "depth") {
            rmse += metrics::depth_rmse_m(out, smp.target, info.near_m, info.far_m);
            rmse_base += metrics::depth_rmse_m(smp.input, smp.target, info.near_m, info.far_m);
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
      << "\", \"samples\": " << n << ", \"l1\": " << l1 / n << ", \"psnr_db\": " << (psnr_n ? psnr / psnr_n : 0)
      << ", \"ssim\": " << ssim / n;
    if (info.task == "depth")
        j << ", \"rmse_m\": " << rmse / n << ", \"bicubic_rmse_m\": " << rmse_base / n;
    j << "}";
    if (args.has("json")) {
        std::cout << j.str() << "\n";
        return 0;
    }
    std::cout << std::fixed << std::setprecision(4) << n << " samples of " << args.get("split") << "\n"
              << "L1    " << l1 / n << "\nPSNR  " << std::setprecision(2) << (psnr_n ? psnr / psnr_n : 0)
              << " dB\nSSIM  " << std::setprecision(4) << ssim / n << "\n";
    if (info.task == "depth")
        std::cout << "RMSE  " << rmse / n << " m (bicubic baseline " << rmse_base / n << " m)\n";
    return 0;
}

} // namespace bft::cli
