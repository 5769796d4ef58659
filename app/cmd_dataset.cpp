// `bft dataset check DIR`, `bft dataset sheet DIR` and `bft dataset import --from FORMAT SRC DST`:
// validating a paired dataset, a contact sheet of its samples, and importing the paper's datasets
// from the layouts they are distributed in.
#include "cli_args.h"
#include "commands.h"

#include "dataset.h"
#include "importers.h"
#include "synth.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>

namespace bft::cli {

namespace {
std::atomic<bool> g_stop_import{false};
void on_interrupt(int) { g_stop_import = true; }
} // namespace

int cmd_dataset(int argc, char** argv)
{
    const std::string action = argc > 0 ? argv[0] : "";
    if (action == "check") {
        Args args("dataset check", "Reads every file of a dataset and reports the samples per split and every problem by\n"
                                   "file: a missing partner, an unreadable file, wrong channels, sizes that differ within a\n"
                                   "sample, values out of range. Exits with 1 when there is any problem.");
        args.positional("DIR", "the dataset folder (with dataset.json)").flag("json", "print the report as JSON");
        if (!args.parse(argc - 1, argv + 1))
            return 0;
        const bool tty = ::isatty(STDERR_FILENO);
        const DatasetReport r = check_dataset(args.get("DIR"), [&](int done, int total) {
            if (tty)
                std::cerr << "\rchecking: " << done << "/" << total << std::flush;
            return true;
        });
        if (tty)
            std::cerr << "\r                                  \r";
        std::cout << (args.has("json") ? r.json() + "\n" : r.text());
        return r.ok() ? 0 : 1;
    }
    if (action == "sheet") {
        Args args("dataset sheet", "Writes a contact sheet of a dataset: one row per sample, input | guide | target.");
        args.positional("DIR", "the dataset folder")
            .option("out", "FILE", "the PNG to write")
            .option("split", "NAME", "which split", "train")
            .option("count", "N", "rows", "6");
        if (!args.parse(argc - 1, argv + 1))
            return 0;
        synth::write_contact_sheet(args.get("DIR"), args.get("split"), args.get_int("count", 1, 1000), args.require("out"));
        std::cout << "wrote " << args.get("out") << "\n";
        return 0;
    }
    if (action == "import") {
        Args args("dataset import", "Imports a dataset from the layout it is distributed in into a dataset folder (see `bft\n"
                                    "dataset check`). Ctrl-C stops; running it again resumes, keeping finished samples.\n"
                                    "Every skipped row or file is reported with the reason.\n"
                                    "formats:\n"
                                    "  pose-pairs   DeepFashion / Market-1501 as Pose-Transfer ships them: SRC/{train,test}/,\n"
                                    "               SRC/*-annotation-{train,test}.csv, SRC/*-pairs-{train,test}.csv\n"
                                    "  nyu          NYU Depth v2: SRC = nyu_depth_v2_labeled.mat (first --train-count frames\n"
                                    "               train, the rest val, as the paper's loader, or the official 795/654 with --splits;\n"
                                    "               input = depth reduced by --factor, or the authors' own inputs with --inputs)\n"
                                    "  texturegan   TextureGAN folders: SRC/{train,val}_{img,skg,seg}/<class>/*.jpg (a photo patch\n"
                                    "               inside the mask becomes the guide, as the authors' loader draws it)\n"
                                    "  pix2pix      aligned A|B images in SRC/{train,val,test}/, guides by name in --guides\n"
                                    "               (--task pose: OpenPose JSON, required; texture: RGBA PNG, else drawn in B's object)\n"
                                    "  rgbd         RGB-D frames: SRC/{color,colour,rgb,image}/ and SRC/depth/ (16-bit PNG in\n"
                                    "               1/--depth-scale m; 0 = no reading, kept as a hole that training leaves out;\n"
                                    "               TUM's rgb.txt/depth.txt or timestamp names pair frames by time, as associate.py)");
        args.option("from", "FORMAT", "the source layout (see above)")
            .option("factor", "F", "nyu, rgbd: the low-resolution input's factor (4, 8 or 16)", "8")
            .option("train-count", "N", "nyu: frames for training; the rest are the validation split", "1000")
            .option("splits", "FILE", "nyu: the official split from splits.mat (trainNdxs / testNdxs)")
            .option("inputs", "DIR", "nyu: the authors' low-resolution inputs, input_<F>x_{train,test}.mat in DIR")
            .option("inputs-scale", "M", "nyu: metres that 1.0 stands for in the authors' input files", "10")
            .option("seed", "K", "texturegan, pix2pix: seed of the patch placement", "0")
            .option("task", "TASK", "pix2pix: pose or texture", "texture")
            .option("guides", "DIR", "pix2pix: the guides' folder")
            .flag("b-to-a", "pix2pix: B is the input and A the target")
            .option("depth-scale", "UNITS", "rgbd: depth units per metre (1000: mm; 5000: TUM RGB-D)", "1000")
            .option("far", "M", "rgbd: the far end of the depth range in metres", "10")
            .option("size", "S", "texturegan: side of the square samples; rgbd: scale and crop to S x S (0: keep)")
            .option("val", "FRACTION", "rgbd: the last frames that form the validation split", "0.1")
            .option("max-dt", "S", "rgbd: the most seconds between a colour and a depth frame paired by time", "0.02")
            .positional("SRC", "the source folder or file")
            .positional("DST", "the dataset folder to write");
        if (!args.parse(argc - 1, argv + 1))
            return 0;
        const std::string format = args.require("from");
        const bool tty = ::isatty(STDERR_FILENO);
        importers::Progress progress{[&](int done, int total) {
            if (tty && (done % 10 == 0 || done + 1 == total))
                std::cerr << "\rimporting: " << done + 1 << "/" << total << std::flush;
            return !g_stop_import.load();
        }};
        std::signal(SIGINT, on_interrupt);
        importers::Options o;
        o.nyu.factor = o.rgbd.factor = args.get_int("factor", 4, 16);
        o.nyu.train_count = args.get_int("train-count", 0, 100000000);
        o.nyu.splits_file = args.get("splits");
        o.nyu.inputs_dir = args.get("inputs");
        o.nyu.inputs_scale_m = static_cast<float>(args.get_double("inputs-scale", 1e-3, 1e6));
        o.texturegan.size = args.has("size") ? args.get_int("size", 32, 4096) : 128;
        o.texturegan.seed = o.pix2pix.seed = static_cast<uint64_t>(args.get_int("seed", 0, 2147483647));
        o.pix2pix.task = args.get("task");
        o.pix2pix.guides = args.get("guides");
        o.pix2pix.b_to_a = args.has("b-to-a");
        o.rgbd.depth_scale = static_cast<float>(args.get_double("depth-scale", 1e-6, 1e9));
        o.rgbd.far_m = static_cast<float>(args.get_double("far", 1e-3, 1e6));
        o.rgbd.size = args.has("size") ? args.get_int("size", 32, 4096) : 0;
        o.rgbd.val_fraction = args.get_double("val", 0, 1);
        o.rgbd.max_time_difference = args.get_double("max-dt", 0, 10);
        const auto& known = importers::formats();
        if (std::find(known.begin(), known.end(), format) == known.end()) {
            std::string list;
            for (const std::string& f : known)
                list += (list.empty() ? "" : ", ") + f;
            throw UsageError("unknown format '" + format + "' (" + list + ")");
        }
        const importers::Report report = importers::import(format, args.get("SRC"), args.get("DST"), o, progress);
        std::signal(SIGINT, SIG_DFL);
        if (tty)
            std::cerr << "\n";
        std::cout << report.text();
        if (g_stop_import) {
            std::cout << "stopped; run the same command again to go on\n";
            return 130;
        }
        return 0;
    }
    if (action == "--help" || action == "-h" || action.empty()) {
        std::cout << "usage: bft dataset check DIR [--json]\n       bft dataset sheet DIR --out FILE [--split S] [--count N]\n"
                     "       bft dataset import --from FORMAT SRC DST\n";
        return action.empty() ? 2 : 0;
    }
    throw UsageError("unknown action '" + action + "' (check, sheet or import)");
}

} // namespace bft::cli
