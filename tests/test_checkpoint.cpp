// Checkpoint I/O: round trips, architecture inference for all four generators, the reference
// loader's tolerances (DataParallel prefix, old InstanceNorm statistics), strictness, and
// robustness against truncated, bit-flipped and foreign files.
#include "test_support.h"

#include "checkpoint.h"
#include "errors.h"
#include "pickle.h"

#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>

#include <random>

using namespace std::string_literals;

namespace bft {
namespace {

std::string fixture(const std::string& name) { return test::parity_dir() + "/" + name + "/weights.pth"; }

ArchSpec small(Arch arch)
{
    ArchSpec s;
    s.arch = arch;
    s.input_nc = 2, s.guide_nc = 5, s.output_nc = 3, s.ngf = 4, s.n_blocks = 2, s.num_downs = 6;
    s.bottleneck_depth = 7;
    return s;
}

bool same_spec(const ArchSpec& a, const ArchSpec& b)
{
    return a.arch == b.arch && a.input_nc == b.input_nc && a.guide_nc == b.guide_nc && a.output_nc == b.output_nc &&
           a.ngf == b.ngf && a.bottleneck_depth == b.bottleneck_depth &&
           (a.is_resnet() ? a.n_blocks == b.n_blocks : a.num_downs == b.num_downs);
}

// Expects `fn` to throw bft::Error whose message names `path` and contains `needle`.
template <class F>
void expect_error(F fn, const std::string& path, const std::string& needle)
{
    try {
        fn();
        ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(path), std::string::npos) << msg;
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
}

TEST(Checkpoint, RoundTripInfersEveryArchitecture)
{
    const auto dir = test::temp_dir("ckpt-roundtrip");
    for (Arch arch : {Arch::BftResnet, Arch::BftUnet, Arch::UftResnet, Arch::UftUnet}) {
        SCOPED_TRACE(arch_name(arch));
        const ArchSpec spec = small(arch);
        Generator net = make_generator(spec);
        const std::string path = dir + "/" + arch_name(arch) + ".pth";
        write_state_dict(path, generator_state(*net));
        LoadedGenerator back = load_generator(path);
        EXPECT_EQ(back.format, CheckpointFormat::Zip);
        EXPECT_TRUE(same_spec(back.net->spec(), spec)) << back.net->spec().describe();
        EXPECT_EQ(back.params, count_parameters(*net));
        auto a = generator_state(*net), b = generator_state(*back.net);
        ASSERT_EQ(a.size(), b.size());
        for (size_t k = 0; k < a.size(); ++k) {
            EXPECT_EQ(a[k].first, b[k].first);
            EXPECT_TRUE(at::equal(a[k].second, b[k].second)) << a[k].first;
        }
    }
}

TEST(Checkpoint, LegacyFixtureSurvivesConversionToZip)
{
    const auto dir = test::temp_dir("ckpt-convert");
    const StateDict legacy = read_state_dict(fixture("texture_unet"));
    ASSERT_EQ(legacy.format, CheckpointFormat::Legacy);
    write_state_dict(dir + "/zip.pth", legacy.entries);
    const StateDict zip = read_state_dict(dir + "/zip.pth");
    ASSERT_EQ(zip.format, CheckpointFormat::Zip);
    ASSERT_EQ(zip.entries.size(), legacy.entries.size());
    for (size_t k = 0; k < zip.entries.size(); ++k) {
        EXPECT_EQ(zip.entries[k].first, legacy.entries[k].first);
        EXPECT_TRUE(at::equal(zip.entries[k].second, legacy.entries[k].second));
    }
}

TEST(Checkpoint, AcceptsDataParallelPrefixAndOldInstanceNormStatistics)
{
    const auto dir = test::temp_dir("ckpt-tolerant");
    const ArchSpec spec = small(Arch::BftResnet);
    Generator net = make_generator(spec);
    auto state = generator_state(*net);
    std::vector<std::pair<std::string, at::Tensor>> wrapped;
    for (const auto& [k, t] : state)
        wrapped.emplace_back("module." + k, t);
    // What PyTorch 0.3 wrote for InstanceNorm2d(affine=False) layers.
    wrapped.emplace_back("module.resnet.0.conv_block.2.running_mean", at::zeros({spec.ngf * 8}));
    wrapped.emplace_back("module.resnet.0.conv_block.2.running_var", at::ones({spec.ngf * 8}));
    wrapped.emplace_back("module.pre_decoder.1.num_batches_tracked", at::zeros({}, at::kLong));
    write_state_dict(dir + "/dp.pth", wrapped);
    LoadedGenerator g = load_generator(dir + "/dp.pth");
    EXPECT_TRUE(same_spec(g.net->spec(), spec));
    auto back = generator_state(*g.net);
    for (size_t k = 0; k < back.size(); ++k)
        EXPECT_TRUE(at::equal(back[k].second, state[k].second));
}

TEST(Checkpoint, StrictLoadingNamesMissingUnexpectedAndMismatchedKeys)
{
    const auto dir = test::temp_dir("ckpt-strict");
    const ArchSpec spec = small(Arch::BftUnet);
    Generator net = make_generator(spec);
    auto state = generator_state(*net);

    auto missing = state;
    missing.erase(std::find_if(missing.begin(), missing.end(), [](auto& e) { return e.first == "upconv3.1.bias"; }));
    write_state_dict(dir + "/missing.pth", missing);
    expect_error([&] { load_generator(dir + "/missing.pth"); }, dir + "/missing.pth", "missing keys: upconv3.1.bias");

    auto extra = state;
    extra.emplace_back("upconv9.1.weight", at::zeros({3}));
    write_state_dict(dir + "/extra.pth", extra);
    expect_error([&] { load_generator(dir + "/extra.pth"); }, dir + "/extra.pth", "unexpected keys: upconv9.1.weight");

    auto wrong = state;
    for (auto& [k, t] : wrong)
        if (k == "bottleneck_beta_3.2.bias")
            t = at::zeros({t.size(0) + 1});
    write_state_dict(dir + "/shape.pth", wrong);
    expect_error([&] { load_generator(dir + "/shape.pth"); }, dir + "/shape.pth",
                 "shape mismatches: bottleneck_beta_3.2.bias (file [17], model [16])");
}

TEST(Checkpoint, RefusesFilesThatAreNotGeneratorStateDicts)
{
    const auto dir = test::temp_dir("ckpt-foreign");
    const std::string magic = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."s;
    const std::string header = magic + "\x80\x02M\xe9\x03."s + "\x80\x02}q\x00."s;

    // A pickle that would run a shell command under Python's torch.load(weights_only=False).
    const std::string evil = header + "\x80\x02" "cos\nsystem\nq\x00X\x07\x00\x00\x00" "echo hi\x85R."s;
    test::write_bytes(dir + "/evil.pth", evil);
    expect_error([&] { read_state_dict(dir + "/evil.pth"); }, dir + "/evil.pth", "'os.system'");

    test::write_bytes(dir + "/list.pth", header + "\x80\x02]q\x00."s);
    expect_error([&] { read_state_dict(dir + "/list.pth"); }, dir + "/list.pth", "not a state dict");

    test::write_bytes(dir + "/strings.pth", header + "\x80\x02}q\x00(X\x01\x00\x00\x00" "aX\x01\x00\x00\x00" "bu."s);
    expect_error([&] { read_state_dict(dir + "/strings.pth"); }, dir + "/strings.pth", "entry 'a' is a str");

    test::write_bytes(dir + "/empty.pth", "");
    expect_error([&] { read_state_dict(dir + "/empty.pth"); }, dir + "/empty.pth", "empty");

    test::write_bytes(dir + "/text.pth", "hello, I am not a checkpoint\n");
    expect_error([&] { read_state_dict(dir + "/text.pth"); }, dir + "/text.pth", "not a PyTorch checkpoint");

    expect_error([&] { read_state_dict(dir + "/absent.pth"); }, dir + "/absent.pth", "cannot open");

    // A zip archive with a foreign pickle inside, as torch.save of an arbitrary object would write.
    {
        std::string bytes;
        caffe2::serialize::PyTorchStreamWriter w([&](const void* p, size_t n) {
            bytes.append(static_cast<const char*>(p), n);
            return n;
        });
        const std::string pkl = "\x80\x02" "cbuiltins\neval\nq\x00X\x03\x00\x00\x00" "1+1q\x01\x85R."s;
        w.writeRecord("data.pkl", pkl.data(), pkl.size());
        w.writeEndOfFile();
        test::write_bytes(dir + "/evil_zip.pth", bytes);
    }
    expect_error([&] { read_state_dict(dir + "/evil_zip.pth"); }, dir + "/evil_zip.pth", "'builtins.eval'");

    // A discriminator is a state dict, but not a generator.
    write_state_dict(dir + "/disc.pth", {{"model.0.weight", at::zeros({8, 9, 4, 4})}, {"model.0.bias", at::zeros({8})}});
    expect_error([&] { load_generator(dir + "/disc.pth"); }, dir + "/disc.pth", "discriminator");
}

// Loads a damaged file: it may load (a flipped weight is still a weight) or fail with bft::Error,
// but nothing else may happen.
void load_damaged(const std::string& path, int* failures)
{
    try {
        load_generator(path);
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        ++*failures;
    }
}

TEST(Checkpoint, TruncatedFilesGiveClearErrors)
{
    const auto dir = test::temp_dir("ckpt-truncated");
    for (const std::string name : {"pose_resnet", "depth_resnet"}) {
        const std::string bytes = test::read_bytes(fixture(name));
        for (int k = 1; k < 40; ++k) {
            const size_t cut = bytes.size() * static_cast<size_t>(k) / 40;
            const std::string path = dir + "/" + name + "_" + std::to_string(cut) + ".pth";
            test::write_bytes(path, bytes.substr(0, cut));
            expect_error([&] { load_generator(path); }, path, "");
        }
    }
}

TEST(Checkpoint, BitFlippedFilesNeverCrash)
{
    const auto dir = test::temp_dir("ckpt-bitflip");
    std::mt19937 rng(1234);
    for (const std::string name : {"pose_resnet", "depth_resnet"}) {
        const std::string bytes = test::read_bytes(fixture(name));
        int failures = 0;
        // Flip bits in the pickle-heavy head more often: that is where parsing can go wrong.
        for (int k = 0; k < 150; ++k) {
            std::string damaged = bytes;
            const size_t span = k % 2 ? damaged.size() : std::min<size_t>(damaged.size(), 20000);
            for (int flips = 0; flips < 1 + k % 3; ++flips)
                damaged[rng() % span] ^= static_cast<char>(1u << (rng() % 8));
            const std::string path = dir + "/" + name + ".pth";
            test::write_bytes(path, damaged);
            load_damaged(path, &failures);
        }
        EXPECT_GT(failures, 0) << "no damage was ever detected in " << name;
    }
}

TEST(Pickle, WriterOutputParsesBack)
{
    const std::string pkl = pickle::write_state_dict({{"a.weight", c10::ScalarType::Float, {2, 3}},
                                                      {"b", c10::ScalarType::Long, {}},
                                                      {"c", c10::ScalarType::Half, {70000}}});
    size_t end = 0;
    const auto recs = pickle::read_state_dict(reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), 0, &end, "mem");
    EXPECT_EQ(end, pkl.size());
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0].name, "a.weight");
    EXPECT_EQ(recs[0].sizes, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(recs[0].strides, (std::vector<int64_t>{3, 1}));
    EXPECT_EQ(recs[1].storage.dtype, c10::ScalarType::Long);
    EXPECT_TRUE(recs[1].sizes.empty());
    EXPECT_EQ(recs[2].storage.key, "2");
    EXPECT_EQ(recs[2].storage.numel, 70000);
}

TEST(Pickle, ReadsPython2StylePickles)
{
    // Python 2.7 + PyTorch 0.4 (the authors' setup): byte-string keys and OrderedDict items passed
    // as one list argument.
    std::string p = "\x80\x02" "ccollections\nOrderedDict\nq\x00]q\x01]q\x02(U\x01w"s;
    p += "ctorch._utils\n_rebuild_tensor_v2\nq\x03((U\x07storageq\x04"
         "ctorch\nFloatStorage\nq\x05U\x01" "0U\x03" "cpuq\x06K\x04tq\x07QK\x00K\x04\x85K\x01\x85\x89"
         "h\x00)RtRq\x08" "ea\x85R."s;
    const auto recs = pickle::read_state_dict(reinterpret_cast<const uint8_t*>(p.data()), p.size(), 0, nullptr, "py2");
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].name, "w");
    EXPECT_EQ(recs[0].storage.numel, 4);
    EXPECT_EQ(recs[0].sizes, (std::vector<int64_t>{4}));
}

TEST(Pickle, HostileStructuresAreRejectedNotCrashed)
{
    auto parse = [](const std::string& p) {
        return pickle::read_state_dict(reinterpret_cast<const uint8_t*>(p.data()), p.size(), 0, nullptr, "hostile");
    };
    // A million nested lists: no recursion anywhere, so this is just "not a state dict".
    std::string deep = "\x80\x02";
    deep += std::string(1000000, '(');
    deep += "]";
    deep += std::string(1000000, 'l');
    deep += ".";
    EXPECT_THROW(parse(deep), Error);
    EXPECT_THROW(parse("\x80\x02h\x05."s), Error);         // memo entry never stored
    EXPECT_THROW(parse("\x80\x02X\xff\xff\xff\x7f" "a."s), Error); // string past the end
    EXPECT_THROW(parse("\x80\x02."s), Error);              // STOP on an empty stack
    EXPECT_THROW(parse("\x80\x02}q\x00"s), Error);          // no STOP
    EXPECT_THROW(parse("\x80\x02\x81."s), Error);           // NEWOBJ is never in a state dict
}

} // namespace
} // namespace bft
