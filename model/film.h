// The feature transformation shared by every generator: 1x1-conv bottlenecks that predict
// per-pixel scale (gamma) and shift (beta) from one stream, and the per-channel normalisation
// of the other stream that they modulate. Also the optional capture of those maps by level.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include <map>
#include <string>

namespace bft {

// gamma/beta maps by name: "gamma_g2i_L2", "beta_i2g_L3", ... as in the parity fixtures.
// g2i: predicted from the guide stream, applied to the input stream; i2g: the other way.
using FilmMaps = std::map<std::string, at::Tensor>;

// conv1x1(nc -> depth), ReLU, conv1x1(depth -> nc): the parameter names are "0.*" and "2.*".
torch::nn::Sequential film_bottleneck(int nc, int depth);
// Appends the same three layers to a flat Sequential (the U-Net's extra levels are stored so).
void append_film_bottleneck(torch::nn::Sequential& seq, int nc, int depth);
// Runs the three layers of a flat Sequential starting at `first`.
at::Tensor run_film_bottleneck(const torch::nn::Sequential& seq, size_t first, const at::Tensor& x);

// gamma * (x - mean) / sqrt(var + 1e-5) + beta, mean and unbiased var per sample and channel over H, W.
at::Tensor film_modulate(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta);
// film_modulate_fused (fused_training.h): the same as one autograd node, for training on the CPU.

// Records a level's maps when capture is on (maps != nullptr); free otherwise.
inline void record_film(FilmMaps* maps, const char* dir, int level, const at::Tensor& gamma, const at::Tensor& beta)
{
    if (!maps)
        return;
    const std::string suffix = std::string("_") + dir + "_L" + std::to_string(level);
    (*maps)["gamma" + suffix] = gamma;
    (*maps)["beta" + suffix] = beta;
}

} // namespace bft
