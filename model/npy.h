// NumPy .npy files (format versions 1-3): the exchange format for raw tensors, fixtures and
// gamma/beta maps. Reads little-endian float32/float64/float16/int/uint8/bool arrays in C or
// Fortran order; writes float32 in C order, atomically.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace bft {

at::Tensor read_npy(const std::string& path);            // contiguous CPU tensor of the file's dtype
at::Tensor parse_npy(const std::string& bytes, const std::string& source);
void write_npy(const std::string& path, const at::Tensor& tensor); // written as float32
std::string encode_npy(const at::Tensor& tensor);

} // namespace bft
