#include "checkpoint.h"

#include "atomic_file.h"
#include "errors.h"
#include "pickle.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <zlib.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

namespace bft {

std::string format_name(CheckpointFormat f)
{
    return f == CheckpointFormat::Legacy ? "legacy" : "zip";
}

namespace {

// The zip archives torch.save writes: entries stored uncompressed under one top folder
// ("archive/data.pkl", "archive/data/0", ...), zip64 records when large. Read here instead of with
// libtorch's PyTorchStreamReader, which leaks memory when an archive is damaged (found by fuzzing)
// and trusts the archive's sizes more than a reader of downloaded files should. Every offset and
// size is checked against the file, and every entry's CRC-32.
class ZipRecords {
public:
    ZipRecords(const std::string& bytes, const std::string& path) : bytes_(bytes), path_(path)
    {
        const size_t n = bytes.size();
        if (n < 22)
            fail("too short for a zip archive");
        // The end-of-central-directory record: the last one, before a comment of at most 64 KiB.
        size_t eocd = std::string::npos;
        for (size_t i = n - 22 + 1; i-- > 0 && n - i <= 22 + 65535;)
            if (u32(i) == 0x06054b50) {
                eocd = i;
                break;
            }
        if (eocd == std::string::npos)
            fail("no end of central directory (not a zip archive, or truncated)");
        uint64_t count = u16(eocd + 10), cd_size = u32(eocd + 12), cd_offset = u32(eocd + 16);
        if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
            if (eocd < 20 || u32(eocd - 20) != 0x07064b50)
                fail("zip64 archive without its locator");
            const uint64_t at = u64(eocd - 20 + 8);
            if (at > n - 56 || u32(static_cast<size_t>(at)) != 0x06064b50)
                fail("damaged zip64 end of central directory");
            count = u64(static_cast<size_t>(at) + 32);
            cd_size = u64(static_cast<size_t>(at) + 40);
            cd_offset = u64(static_cast<size_t>(at) + 48);
        }
        if (cd_offset > n || cd_size > n - cd_offset || count > cd_size / 46)
            fail("the central directory lies outside the file");
        size_t p = static_cast<size_t>(cd_offset);
        const size_t end = static_cast<size_t>(cd_offset + cd_size);
        std::string prefix;
        uint64_t total = 0;
        for (uint64_t k = 0; k < count; ++k) {
            if (p > end - 46 || u32(p) != 0x02014b50)
                fail("damaged central directory entry");
            const uint32_t method = u16(p + 10), crc = u32(p + 16);
            uint64_t packed = u32(p + 20), size = u32(p + 24), local = u32(p + 42);
            const size_t name_len = u16(p + 28), extra_len = u16(p + 30), comment_len = u16(p + 32);
            if (name_len + extra_len + comment_len > end - p - 46)
                fail("damaged central directory entry");
            std::string name = bytes.substr(p + 46, name_len);
            // zip64: the sizes and offset that do not fit 32 bits follow in extra field 0x0001.
            for (size_t e = p + 46 + name_len, e_end = e + extra_len; e + 4 <= e_end;) {
                const uint32_t id = u16(e), len = u16(e + 2);
                if (len > e_end - e - 4)
                    fail("damaged zip extra field");
                if (id == 0x0001) {
                    size_t q = e + 4;
                    const size_t q_end = q + len;
                    for (uint64_t* v : {&size, &packed, &local})
                        if (*v == 0xFFFFFFFF) {
                            if (q + 8 > q_end)
                                fail("damaged zip64 extra field");
                            *v = u64(q);
                            q += 8;
                        }
                }
                e += 4 + len;
            }
            if (method != 0 || packed != size)
                fail("entry '" + name + "' is compressed; torch.save stores its entries");
            if (local > n - 30 || u32(static_cast<size_t>(local)) != 0x04034b50)
                fail("entry '" + name + "' has no local header where the directory says");
            const size_t data = static_cast<size_t>(local) + 30 + u16(static_cast<size_t>(local) + 26) + u16(static_cast<size_t>(local) + 28);
            if (data > n || size > n - data)
                fail("entry '" + name + "' reaches past the end of the file (truncated?)");
            // Entries may not share bytes: their sizes add up to at most the file's (else checking
            // a crafted directory of a thousand entries over the same data would take forever).
            total += size;
            if (total > n)
                fail("entries add up to more bytes than the file has");
            const std::string_view content(bytes.data() + data, static_cast<size_t>(size));
            // A CRC of 0 is "not computed" (torch.serialization.set_crc32_options(False)).
            if (crc != 0 && ::crc32_z(::crc32_z(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(content.data()), content.size()) != crc)
                fail("entry '" + name + "' fails its CRC check (damaged file)");
            // All of torch.save's entries sit under one folder, whatever its name.
            const size_t slash = name.find('/');
            if (slash == std::string::npos || slash == 0)
                fail("entry '" + name + "' is not under the archive's folder");
            if (prefix.empty())
                prefix = name.substr(0, slash + 1);
            else if (name.compare(0, prefix.size(), prefix) != 0)
                fail("entries under more than one folder ('" + prefix + "', '" + name + "')");
            records_[name.substr(prefix.size())] = content;
            p += 46 + name_len + extra_len + comment_len;
        }
    }
    bool has(const std::string& name) const { return records_.count(name) != 0; }
    std::string_view get(const std::string& name) const
    {
        const auto it = records_.find(name);
        if (it == records_.end())
            fail("no entry '" + name + "'");
        return it->second;
    }

private:
    [[noreturn]] void fail(const std::string& why) const { throw Error(path_, "not a valid PyTorch zip checkpoint: " + why); }
    uint32_t u16(size_t at) const { return static_cast<uint32_t>(byte(at)) | static_cast<uint32_t>(byte(at + 1)) << 8; }
    uint32_t u32(size_t at) const { return u16(at) | u16(at + 2) << 16; }
    uint64_t u64(size_t at) const { return static_cast<uint64_t>(u32(at)) | static_cast<uint64_t>(u32(at + 4)) << 32; }
    uint8_t byte(size_t at) const
    {
        if (at >= bytes_.size())
            fail("truncated");
        return static_cast<uint8_t>(bytes_[at]);
    }

    const std::string& bytes_;
    std::string path_;
    std::map<std::string, std::string_view> records_;
};

// A storage's bytes, copied out of the file into an aligned CPU tensor.
at::Tensor make_storage(const pickle::StorageRef& ref, const void* data, size_t available, const std::string& path)
{
    const size_t elem = c10::elementSize(ref.dtype);
    if (static_cast<uint64_t>(ref.numel) > available / elem)
        throw Error(path, "storage '" + ref.key + "' needs " + std::to_string(ref.numel * elem) + " bytes but the file has " +
                              std::to_string(available) + " (truncated?)");
    at::Tensor storage = at::empty({ref.numel}, at::TensorOptions().dtype(ref.dtype));
    if (ref.numel)
        std::memcpy(storage.data_ptr(), data, static_cast<size_t>(ref.numel) * elem);
    return storage;
}

// Views a tensor record into its storage, after checking that every element it reaches exists.
at::Tensor materialize(const pickle::TensorRecord& r, at::Tensor storage, const std::string& path)
{
    if (r.storage.is_view) {
        if (r.storage.view_offset < 0 || r.storage.view_numel < 0 ||
            r.storage.view_offset > storage.numel() - r.storage.view_numel)
            throw Error(path, "tensor '" + r.name + "' has a storage view outside its storage");
        storage = storage.narrow(0, r.storage.view_offset, r.storage.view_numel);
    }
    if (r.offset < 0)
        throw Error(path, "tensor '" + r.name + "' has a negative storage offset");
    int64_t last = r.offset;
    bool empty = false;
    // Every axis counts at least 1 in the bound (an empty tensor's other axes still reach
    // LibTorch's stride arithmetic), and no tensor holds more elements than its storage: a state
    // dict has no broadcast (stride 0) parameters, and a tiny file must not ask for gigabytes.
    uint64_t bound = 1, numel = 1;
    for (size_t d = 0; d < r.sizes.size(); ++d) {
        if (r.sizes[d] < 0 || r.strides[d] < 0 || r.sizes[d] > (int64_t(1) << 40) || r.strides[d] > (int64_t(1) << 40))
            throw Error(path, "tensor '" + r.name + "' has an invalid size or stride");
        const uint64_t span = static_cast<uint64_t>(std::max<int64_t>(r.sizes[d], 1));
        if (bound > (uint64_t(1) << 40) / span)
            throw Error(path, "tensor '" + r.name + "' is absurdly large");
        bound *= span;
        numel *= static_cast<uint64_t>(r.sizes[d]);
        if (r.sizes[d] == 0) {
            empty = true;
        } else {
            int64_t reach = 0;
            if (__builtin_mul_overflow(r.sizes[d] - 1, r.strides[d], &reach) || __builtin_add_overflow(last, reach, &last))
                throw Error(path, "tensor '" + r.name + "' reaches past the end of its storage (corrupt file?)");
        }
    }
    if (!empty && (last >= storage.numel() || numel > static_cast<uint64_t>(storage.numel())))
        throw Error(path, "tensor '" + r.name + "' reaches past the end of its storage (corrupt file?)");
    if (empty)
        return at::empty(r.sizes, storage.options());
    return storage.as_strided(r.sizes, r.strides, r.offset).clone(at::MemoryFormat::Contiguous);
}

std::string c10_message(const c10::Error& e)
{
    std::string m = e.what_without_backtrace();
    if (auto nl = m.find('\n'); nl != std::string::npos)
        m.resize(nl);
    return m;
}

StateDict read_zip(const std::string& bytes, const std::string& path)
{
    StateDict sd;
    sd.format = CheckpointFormat::Zip;
    const ZipRecords zip(bytes, path);
    if (!zip.has("data.pkl"))
        throw Error(path, "zip archive has no data.pkl: not a torch.save checkpoint (a TorchScript model?)");
    if (zip.has("byteorder") && zip.get("byteorder") != "little")
        throw Error(path, "big-endian checkpoints are not supported");
    const std::string_view pkl = zip.get("data.pkl");
    const auto records = pickle::read_state_dict(reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size(), 0, nullptr, path);
    std::map<std::string, at::Tensor> storages;
    for (const auto& r : records) {
        auto it = storages.find(r.storage.key);
        if (it == storages.end()) {
            const std::string name = "data/" + r.storage.key;
            if (r.storage.key.find('/') != std::string::npos || !zip.has(name))
                throw Error(path, "storage '" + r.storage.key + "' of tensor '" + r.name + "' is missing from the archive");
            const std::string_view data = zip.get(name);
            it = storages.emplace(r.storage.key, make_storage(r.storage, data.data(), data.size(), path)).first;
        }
        sd.entries.emplace_back(r.name, materialize(r, it->second, path));
    }
    return sd;
}

StateDict read_legacy(const std::string& bytes, const std::string& path)
{
    // torch.save's pre-1.6 stream: magic number, protocol version, system info, the object, the
    // list of storage keys, then each storage as <int64 numel><raw bytes>.
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    size_t pos = 0;
    const auto magic = pickle::read_simple(data, bytes.size(), pos, &pos, path);
    static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
    if (magic.kind != pickle::SimpleValue::Kind::BigInt || magic.big != kMagic)
        throw Error(path, "not a PyTorch checkpoint (a pickle without torch.save's magic number)");
    const auto version = pickle::read_simple(data, bytes.size(), pos, &pos, path);
    if (version.kind != pickle::SimpleValue::Kind::Int || version.integer != 1001)
        throw Error(path, "unsupported legacy checkpoint protocol version");
    const auto sys_info = pickle::read_simple(data, bytes.size(), pos, &pos, path);
    if (sys_info.kind != pickle::SimpleValue::Kind::Dict)
        throw Error(path, "malformed legacy checkpoint header");
    const auto records = pickle::read_state_dict(data, bytes.size(), pos, &pos, path);
    const auto keys = pickle::read_simple(data, bytes.size(), pos, &pos, path);
    if (keys.kind != pickle::SimpleValue::Kind::StringList)
        throw Error(path, "malformed legacy checkpoint: no storage key list");

    std::map<std::string, pickle::StorageRef> refs;
    for (const auto& r : records)
        refs[r.storage.key] = r.storage;
    std::map<std::string, at::Tensor> storages;
    for (const auto& key : keys.strings) {
        if (bytes.size() - pos < 8)
            throw Error(path, "file is truncated (storage '" + key + "' is missing)");
        int64_t numel = 0;
        std::memcpy(&numel, data + pos, 8);
        pos += 8;
        auto it = refs.find(key);
        if (it == refs.end())
            throw Error(path, "storage '" + key + "' is not used by any tensor (corrupt file?)");
        if (numel != it->second.numel)
            throw Error(path, "storage '" + key + "' has " + std::to_string(numel) + " elements, the pickle says " +
                                  std::to_string(it->second.numel) + " (corrupt file?)");
        const size_t nbytes = static_cast<size_t>(numel) * c10::elementSize(it->second.dtype);
        storages[key] = make_storage(it->second, data + pos, bytes.size() - pos, path);
        pos += nbytes;
    }
    StateDict sd;
    sd.format = CheckpointFormat::Legacy;
    for (const auto& r : records) {
        auto it = storages.find(r.storage.key);
        if (it == storages.end())
            throw Error(path, "storage '" + r.storage.key + "' of tensor '" + r.name + "' is missing (truncated?)");
        sd.entries.emplace_back(r.name, materialize(r, it->second, path));
    }
    return sd;
}

bool ends_with(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const at::Tensor* find(const std::vector<std::pair<std::string, at::Tensor>>& entries, const std::string& key)
{
    for (const auto& [k, v] : entries)
        if (k == key)
            return &v;
    return nullptr;
}

std::string shape_text(at::IntArrayRef s)
{
    std::ostringstream o;
    o << "[";
    for (size_t k = 0; k < s.size(); ++k)
        o << (k ? ", " : "") << s[k];
    o << "]";
    return o.str();
}

std::string list_text(const std::vector<std::string>& v, size_t max = 8)
{
    std::string out;
    for (size_t k = 0; k < v.size() && k < max; ++k)
        out += (k ? ", " : "") + v[k];
    if (v.size() > max)
        out += ", ... (" + std::to_string(v.size() - max) + " more)";
    return out;
}

} // namespace

StateDict read_state_dict(const std::string& path)
{
    const std::string bytes = read_file(path);
    if (bytes.empty())
        throw Error(path, "file is empty");
    if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0)
        return read_zip(bytes, path);
    if (bytes.size() > 262 && bytes.compare(257, 5, "ustar") == 0)
        throw Error(path, "tar-format checkpoints of PyTorch < 0.1.10 are not supported; re-save it with a newer PyTorch");
    if (static_cast<uint8_t>(bytes[0]) != 0x80)
        throw Error(path, "not a PyTorch checkpoint (neither a zip archive nor a pickle stream)");
    return read_legacy(bytes, path);
}

void write_state_dict(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& entries)
{
    std::vector<pickle::TensorDesc> descs;
    std::vector<at::Tensor> data;
    for (const auto& [name, t] : entries) {
        at::Tensor c = t.detach().to(at::kCPU).contiguous();
        descs.push_back({name, c.scalar_type(), c.sizes().vec()});
        data.push_back(c);
    }
    const std::string pkl = pickle::write_state_dict(descs);
    write_file_atomically(path, [&](const auto& write) {
        try {
            caffe2::serialize::PyTorchStreamWriter writer([&](const void* buf, size_t n) -> size_t {
                write(buf, n);
                return n;
            });
            writer.writeRecord("data.pkl", pkl.data(), pkl.size());
            static const std::string kLittle = "little";
            writer.writeRecord("byteorder", kLittle.data(), kLittle.size());
            for (size_t k = 0; k < data.size(); ++k)
                writer.writeRecord("data/" + std::to_string(k), data[k].data_ptr(), data[k].nbytes());
            writer.writeEndOfFile();
        } catch (const c10::Error& e) {
            throw Error(path, "cannot write checkpoint: " + c10_message(e));
        }
    });
}

std::vector<std::pair<std::string, at::Tensor>> normalize_keys(const StateDict& sd)
{
    std::vector<std::pair<std::string, at::Tensor>> out;
    std::set<std::string> seen;
    for (const auto& [key, t] : sd.entries) {
        std::string k = key;
        if (k.rfind("module.", 0) == 0)
            k = k.substr(7);
        // Parameter-free InstanceNorm layers of PyTorch < 0.4 saved running statistics.
        if (ends_with(k, ".running_mean") || ends_with(k, ".running_var") || ends_with(k, ".num_batches_tracked"))
            continue;
        if (!seen.insert(k).second)
            continue;
        out.emplace_back(k, t);
    }
    return out;
}

ArchSpec infer_arch(const StateDict& sd, const std::string& path)
{
    const auto entries = normalize_keys(sd);
    auto shape = [&](const std::string& key, int64_t dims) -> at::IntArrayRef {
        const at::Tensor* t = find(entries, key);
        if (!t)
            throw Error(path, "cannot tell the architecture: key '" + key + "' is missing");
        if (t->dim() != dims)
            throw Error(path, "cannot tell the architecture: '" + key + "' has shape " + shape_text(t->sizes()));
        return t->sizes();
    };
    auto has = [&](const std::string& key) { return find(entries, key) != nullptr; };

    ArchSpec s;
    if (has("padding_in.1.weight")) {
        s.arch = has("G_bottleneck_alpha_1.0.weight") ? Arch::BftResnet : Arch::UftResnet;
        auto stem = shape("padding_in.1.weight", 4);
        s.ngf = static_cast<int>(stem[0]);
        s.input_nc = static_cast<int>(stem[1]);
        s.guide_nc = static_cast<int>(shape("padding_g.1.weight", 4)[1]);
        s.output_nc = static_cast<int>(shape("decoder.1.weight", 4)[0]);
        s.bottleneck_depth = static_cast<int>(shape("bottleneck_alpha_1.0.weight", 4)[0]);
        s.n_blocks = 0;
        while (has("resnet." + std::to_string(s.n_blocks) + ".conv_block.1.weight"))
            ++s.n_blocks;
    } else if (has("downconv1.0.weight")) {
        s.arch = has("bottleneck_alpha_2.0.weight") ? Arch::BftUnet : Arch::UftUnet;
        auto stem = shape("downconv1.0.weight", 4);
        s.ngf = static_cast<int>(stem[0]);
        s.input_nc = static_cast<int>(stem[1]);
        s.guide_nc = static_cast<int>(shape("G_downconv1.0.weight", 4)[1]);
        s.output_nc = static_cast<int>(shape("upconv5.1.weight", 4)[1]); // ConvTranspose: [in, out, kh, kw]
        s.bottleneck_depth = static_cast<int>(shape("G_bottleneck_alpha_2.0.weight", 4)[0]);
        int extra = 0;
        while (has("downconv." + std::to_string(2 * extra + 1) + ".weight"))
            ++extra;
        s.num_downs = 5 + extra;
    } else if (has("model.0.weight")) {
        throw Error(path, "this is a PatchGAN discriminator, not a generator");
    } else {
        std::string first = entries.empty() ? std::string("none") : entries.front().first;
        throw Error(path, "not a bFT/uFT generator checkpoint (first key: '" + first + "')");
    }
    try {
        s.validate();
    } catch (const Error& e) {
        throw Error(path, e.what());
    }
    return s;
}

void load_weights(GeneratorImpl& net, const StateDict& sd, const std::string& path)
{
    const auto entries = normalize_keys(sd);
    std::map<std::string, at::Tensor> ours;
    for (const auto& item : net.named_parameters(/*recurse=*/true))
        ours[item.key()] = item.value();
    for (const auto& item : net.named_buffers(/*recurse=*/true))
        ours[item.key()] = item.value();

    std::vector<std::string> unexpected, mismatched, missing;
    std::set<std::string> found;
    for (const auto& [k, t] : entries) {
        auto it = ours.find(k);
        if (it == ours.end()) {
            unexpected.push_back(k);
            continue;
        }
        found.insert(k);
        if (!t.sizes().equals(it->second.sizes()))
            mismatched.push_back(k + " (file " + shape_text(t.sizes()) + ", model " + shape_text(it->second.sizes()) + ")");
        else if (!at::isFloatingType(t.scalar_type()))
            mismatched.push_back(k + " (file holds " + std::string(c10::toString(t.scalar_type())) + ")");
    }
    for (const auto& [k, t] : ours)
        if (!found.count(k))
            missing.push_back(k);
    if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
        std::string msg = "weights do not fit " + net.spec().describe() + ":";
        if (!missing.empty())
            msg += " missing keys: " + list_text(missing) + ";";
        if (!unexpected.empty())
            msg += " unexpected keys: " + list_text(unexpected) + ";";
        if (!mismatched.empty())
            msg += " shape mismatches: " + list_text(mismatched) + ";";
        msg.pop_back();
        throw Error(path, msg);
    }
    torch::NoGradGuard no_grad;
    for (const auto& [k, t] : entries) {
        at::Tensor& dst = ours[k];
        dst.copy_(t.to(dst.scalar_type()));
    }
}

LoadedGenerator load_generator(const std::string& path)
{
    StateDict sd = read_state_dict(path);
    // A diverged run's weights would give NaN images with no word why: say so at the door.
    for (const auto& [name, t] : sd.entries)
        if (at::isFloatingType(t.scalar_type()) && !at::isfinite(t).all().item<bool>())
            throw Error(path, "'" + name + "' holds NaN or infinite values (a diverged training run?)");
    ArchSpec spec = infer_arch(sd, path);
    LoadedGenerator out;
    out.net = make_generator(spec);
    load_weights(*out.net, sd, path);
    out.net->eval();
    out.format = sd.format;
    out.params = count_parameters(*out.net);
    return out;
}

std::vector<std::pair<std::string, at::Tensor>> generator_state(GeneratorImpl& net)
{
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (const auto& item : net.named_parameters(/*recurse=*/true))
        out.emplace_back(item.key(), item.value().detach().to(at::kCPU));
    return out;
}

int64_t count_parameters(GeneratorImpl& net)
{
    int64_t n = 0;
    for (const auto& p : net.parameters())
        n += p.numel();
    return n;
}

} // namespace bft
