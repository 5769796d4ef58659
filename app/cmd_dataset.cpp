// `bft dataset check DIR` and `bft dataset sheet DIR`: validating a paired dataset, and a contact
// sheet of its samples.
#include "cli_args.h"
#include "commands.h"

#include "dataset.h"
#include "synth.h"

#include <unistd.h>

#include <iostream>

namespace bft::cli {

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
    if (action == "--help" || action == "-h" || action.empty()) {
        std::cout << "usage: bft dataset check DIR [--json]\n       bft dataset sheet DIR --out FILE [--split S] [--count N]\n";
        return action.empty() ? 2 : 0;
    }
    throw UsageError("unknown action '" + action + "' (check or sheet)");
}

} // namespace bft::cli
