#include "film.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

namespace bft {

namespace nn = torch::nn;

void append_film_bottleneck(nn::Sequential& seq, int nc, int depth)
{
    seq->push_back(nn::Conv2d(nn::Conv2dOptions(nc, depth, 1)));
    seq->push_back(nn::ReLU(nn::ReLUOptions()));
    seq->push_back(nn::Conv2d(nn::Conv2dOptions(depth, nc, 1)));
}

nn::Sequential film_bottleneck(int nc, int depth)
{
    nn::Sequential seq;
    append_film_bottleneck(seq, nc, depth);
    return seq;
}

at::Tensor run_film_bottleneck(const nn::Sequential& seq, size_t first, const at::Tensor& x)
{
    auto h = seq->ptr(first)->as<nn::Conv2dImpl>()->forward(x);
    h = at::relu(h);
    return seq->ptr(first + 2)->as<nn::Conv2dImpl>()->forward(h);
}

at::Tensor film_modulate(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta)
{
    // Matches calc_mean_std of the reference: unbiased variance, eps added before the sqrt.
    auto mean = x.mean({2, 3}, /*keepdim=*/true);
    auto var = x.var({2, 3}, /*unbiased=*/true, /*keepdim=*/true);
    auto inv_std = (var + 1e-5).rsqrt();
    return at::addcmul(beta, gamma, (x - mean) * inv_std);
}

} // namespace bft
