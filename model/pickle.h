// A strict reader and a writer for the subset of Python's pickle format that PyTorch state dicts
// use (protocols 2-4, as written by Python 2 and 3). The reader builds no Python objects: it accepts
// only containers, scalars, strings, OrderedDict, storage references and the tensor-rebuilding
// functions of torch._utils; any other global is refused, never called. Bounds are checked on
// every read and all values live in an arena, so hostile input cannot crash or recurse deeply.
#pragma once

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bft::pickle {

// A storage that a tensor points into, as the persistent id of torch.save names it.
struct StorageRef {
    std::string key;      // "0", "1", ... (archive record data/<key>, or the legacy key)
    c10::ScalarType dtype = c10::ScalarType::Float;
    int64_t numel = 0;    // elements of the (root) storage
    std::string location; // "cpu", "cuda:0", ...
    // Legacy view storages: a slice [view_offset, view_offset + view_numel) of the root storage.
    bool is_view = false;
    int64_t view_offset = 0, view_numel = 0;
};

// One entry of a state dict: a strided view into a storage.
struct TensorRecord {
    std::string name;
    StorageRef storage;
    int64_t offset = 0;
    std::vector<int64_t> sizes, strides;
};

// Parses one pickle of a state dict (torch.save's data.pkl, or the main object of the legacy
// stream) starting at `data[begin]`. Returns the entries in file order; `*end` gets the offset after
// STOP. A dict whose only tensor-holding value is a nested dict under "state_dict" is unwrapped.
// Throws bft::Error("<source>: ...") on anything else.
std::vector<TensorRecord> read_state_dict(const uint8_t* data, size_t size, size_t begin, size_t* end,
                                          const std::string& source);

// A plain value read from a small pickle of the legacy header: an int (magic number, protocol
// version) or a list of strings (storage keys). Ints wider than 64 bits are returned as their
// little-endian bytes in `big`.
struct SimpleValue {
    enum class Kind { Int, BigInt, StringList, Dict, Other } kind = Kind::Other;
    int64_t integer = 0;
    std::string big;                 // little-endian two's complement bytes (BigInt)
    std::vector<std::string> strings; // StringList
};
SimpleValue read_simple(const uint8_t* data, size_t size, size_t begin, size_t* end, const std::string& source);

// Writes a protocol-2 pickle of OrderedDict{name: _rebuild_tensor_v2(storage i, 0, sizes, strides)}
// with storage i named "i", as torch.save's data.pkl does. Tensors are described by name, dtype
// and contiguous sizes.
struct TensorDesc {
    std::string name;
    c10::ScalarType dtype;
    std::vector<int64_t> sizes;
};
std::string write_state_dict(const std::vector<TensorDesc>& tensors);

// "torch.FloatStorage" etc. for a dtype; throws for dtypes without a storage class.
std::string storage_class(c10::ScalarType dtype);

} // namespace bft::pickle
