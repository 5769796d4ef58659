#include "npy.h"

#include "atomic_file.h"
#include "errors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

namespace bft {

namespace {

struct NpyDtype {
    const char* descr;
    at::ScalarType type;
    size_t size;
};
constexpr NpyDtype kDtypes[] = {
    {"<f4", at::kFloat, 4}, {"<f8", at::kDouble, 8}, {"<f2", at::kHalf, 2},  {"<i8", at::kLong, 8},
    {"<i4", at::kInt, 4},   {"<i2", at::kShort, 2},  {"|i1", at::kChar, 1},  {"|u1", at::kByte, 1},
    {"|b1", at::kBool, 1},  {"<u1", at::kByte, 1},   {"<i1", at::kChar, 1},
};

// Value of `key` in the header dict, as raw text ("'<f4'", "False", "(1, 3, 64, 64)").
std::string header_field(const std::string& header, const std::string& key, const std::string& source)
{
    const std::string quoted = "'" + key + "'";
    auto k = header.find(quoted);
    if (k == std::string::npos)
        throw Error(source, "npy header has no '" + key + "'");
    auto colon = header.find(':', k + quoted.size());
    if (colon == std::string::npos)
        throw Error(source, "malformed npy header");
    size_t v = header.find_first_not_of(' ', colon + 1);
    if (v == std::string::npos)
        throw Error(source, "malformed npy header");
    size_t e;
    if (header[v] == '(') {
        e = header.find(')', v);
        if (e == std::string::npos)
            throw Error(source, "malformed npy header");
        ++e;
    } else if (header[v] == '\'') {
        e = header.find('\'', v + 1);
        if (e == std::string::npos)
            throw Error(source, "malformed npy header");
        ++e;
    } else {
        e = header.find_first_of(",}", v);
        if (e == std::string::npos)
            throw Error(source, "malformed npy header");
    }
    return header.substr(v, e - v);
}

} // namespace

at::Tensor parse_npy(const std::string& bytes, const std::string& source)
{
    static const char kMagic[] = "\x93NUMPY";
    if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
        throw Error(source, "not a NumPy .npy file");
    const auto major = static_cast<uint8_t>(bytes[6]);
    size_t header_len, header_start;
    if (major == 1) {
        header_len = static_cast<uint8_t>(bytes[8]) | (size_t(static_cast<uint8_t>(bytes[9])) << 8);
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12)
            throw Error(source, "truncated npy header");
        header_len = 0;
        for (int k = 0; k < 4; ++k)
            header_len |= size_t(static_cast<uint8_t>(bytes[8 + k])) << (8 * k);
        header_start = 12;
    } else {
        throw Error(source, "unsupported npy format version " + std::to_string(major));
    }
    if (header_len > bytes.size() - header_start)
        throw Error(source, "truncated npy header");
    const std::string header = bytes.substr(header_start, header_len);
    const std::string descr = header_field(header, "descr", source);
    const std::string fortran = header_field(header, "fortran_order", source);
    const std::string shape_text = header_field(header, "shape", source);

    const NpyDtype* dtype = nullptr;
    for (const auto& d : kDtypes)
        if (descr == std::string("'") + d.descr + "'")
            dtype = &d;
    if (!dtype)
        throw Error(source, "unsupported npy dtype " + descr + " (expected little-endian float, int, uint8 or bool)");
    if (fortran != "False" && fortran != "True")
        throw Error(source, "malformed npy fortran_order");

    if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')')
        throw Error(source, "malformed npy shape " + shape_text);
    std::vector<int64_t> shape;
    uint64_t numel = 1, bound = 1;
    const std::string inner = shape_text.substr(1, shape_text.size() - 2);
    size_t p = 0;
    while (p < inner.size()) {
        size_t q = inner.find(',', p);
        std::string part = inner.substr(p, q == std::string::npos ? std::string::npos : q - p);
        part.erase(0, part.find_first_not_of(' '));
        if (auto last = part.find_last_not_of(' '); last != std::string::npos)
            part.erase(last + 1);
        else
            part.clear();
        if (!part.empty()) {
            if (part.size() > 12 || part.find_first_not_of("0123456789") != std::string::npos)
                throw Error(source, "malformed npy shape " + shape_text);
            const uint64_t dim = std::stoull(part);
            if (shape.size() >= 16)
                throw Error(source, "npy array has too many dimensions");
            // The bound counts zero-length axes as 1: an empty array's other axes must still fit
            // (LibTorch computes their strides, and overflows as readily as we would).
            const uint64_t span = std::max<uint64_t>(dim, 1);
            if (bound > (uint64_t(1) << 40) / span)
                throw Error(source, "npy array is absurdly large (" + shape_text + ")");
            bound *= span;
            numel *= dim;
            shape.push_back(static_cast<int64_t>(dim));
        }
        if (q == std::string::npos)
            break;
        p = q + 1;
    }
    const size_t data_start = header_start + header_len;
    const uint64_t nbytes = numel * dtype->size;
    if (bytes.size() - data_start < nbytes)
        throw Error(source, "npy data is truncated: " + std::to_string(bytes.size() - data_start) + " of " +
                                std::to_string(nbytes) + " bytes");
    std::vector<int64_t> storage_shape = shape;
    if (fortran == "True")
        std::reverse(storage_shape.begin(), storage_shape.end());
    at::Tensor t = at::empty(storage_shape, at::TensorOptions().dtype(dtype->type));
    if (nbytes)
        std::memcpy(t.data_ptr(), bytes.data() + data_start, nbytes);
    if (fortran == "True") {
        std::vector<int64_t> perm(shape.size());
        for (size_t k = 0; k < perm.size(); ++k)
            perm[k] = static_cast<int64_t>(perm.size() - 1 - k);
        t = t.permute(perm).contiguous();
    }
    return t;
}

at::Tensor read_npy(const std::string& path)
{
    return parse_npy(read_file(path, size_t(1) << 36), path);
}

std::string encode_npy(const at::Tensor& tensor)
{
    at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
    std::string shape = "(";
    for (int64_t d = 0; d < t.dim(); ++d)
        shape += std::to_string(t.size(d)) + (t.dim() == 1 ? "," : (d + 1 < t.dim() ? ", " : ""));
    shape += ")";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    // Pad with spaces so the data starts at a multiple of 64 bytes, newline-terminated.
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header.push_back('\n');
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(static_cast<char>(header.size() & 0xff));
    out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
    out += header;
    out.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * sizeof(float));
    return out;
}

void write_npy(const std::string& path, const at::Tensor& tensor)
{
    write_file_atomically(path, encode_npy(tensor));
}

} // namespace bft
