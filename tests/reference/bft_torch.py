"""A PyTorch (eager) implementation of the bFT and uFT generators, written for bFT Studio's tests and
benchmarks: the same module tree and state_dict keys as the authors' models/networks.py, so the same
checkpoints load in both. `check_fixtures()` proves it against the official-parity fixtures; the
benchmark then times it as "PyTorch eager" beside our engine on identical weights."""
import json
import os

import torch
from torch import nn


def instance_norm(nc):
    return nn.InstanceNorm2d(nc, affine=False, track_running_stats=False)


def film_layers(nc, depth):
    return [nn.Conv2d(nc, depth, 1), nn.ReLU(True), nn.Conv2d(depth, nc, 1)]


def film(x, gamma, beta):
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    mean = flat.mean(2).reshape(n, c, 1, 1)
    std = (flat.var(2) + 1e-5).sqrt().reshape(n, c, 1, 1)  # unbiased variance, as the paper's code
    return gamma * (x - mean) / std + beta


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), instance_norm(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), instance_norm(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class _Resnet(nn.Module):
    def __init__(self, input_nc, guide_nc, output_nc, ngf, n_blocks, depth, bidirectional):
        super().__init__()
        self.bidirectional = bidirectional
        self.padding_in = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7))
        self.conv1 = nn.Conv2d(ngf, ngf * 2, 3, 2, 1)
        self.conv2 = nn.Conv2d(ngf * 2, ngf * 4, 3, 2, 1)
        self.conv3 = nn.Conv2d(ngf * 4, ngf * 8, 3, 2, 1)
        self.padding_g = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(guide_nc, ngf, 7))
        self.conv1_g = nn.Conv2d(ngf, ngf * 2, 3, 2, 1)
        if not bidirectional:
            self.norm1_g = instance_norm(ngf)
        self.conv2_g = nn.Conv2d(ngf * 2, ngf * 4, 3, 2, 1)
        if not bidirectional:
            self.norm2_g = instance_norm(ngf * 2)
        self.conv3_g = nn.Conv2d(ngf * 4, ngf * 8, 3, 2, 1)
        if not bidirectional:
            self.norm3_g = instance_norm(ngf * 4)
        for level in range(1, 5):
            nc = ngf << (level - 1)
            names = (["bottleneck_alpha", "G_bottleneck_alpha", "bottleneck_beta", "G_bottleneck_beta"]
                     if bidirectional else ["bottleneck_alpha", "bottleneck_beta"])
            for name in names:
                setattr(self, f"{name}_{level}", nn.Sequential(*film_layers(nc, depth)))
        self.resnet = nn.Sequential(*[ResnetBlock(ngf * 8) for _ in range(n_blocks)])
        decoder = []
        for i in range(3):
            nc = ngf * 8 >> i
            decoder += [nn.ConvTranspose2d(nc, nc // 2, 3, 2, 1, output_padding=1), instance_norm(nc // 2), nn.ReLU(True)]
        self.pre_decoder = nn.Sequential(*decoder)
        self.decoder = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh())

    def forward(self, x, g, maps=None):
        x, g = self.padding_in(x), self.padding_g(g)
        convs = [(self.conv1, self.conv1_g), (self.conv2, self.conv2_g), (self.conv3, self.conv3_g)]
        for level in range(1, 5):
            if self.bidirectional:
                ga, gb = getattr(self, f"G_bottleneck_alpha_{level}")(g), getattr(self, f"G_bottleneck_beta_{level}")(g)
            else:
                ga, gb = getattr(self, f"bottleneck_alpha_{level}")(g), getattr(self, f"bottleneck_beta_{level}")(g)
            if maps is not None:
                maps[f"gamma_g2i_L{level}"], maps[f"beta_g2i_L{level}"] = ga, gb
            if level < 4:
                if self.bidirectional:
                    ia, ib = getattr(self, f"bottleneck_alpha_{level}")(x), getattr(self, f"bottleneck_beta_{level}")(x)
                    if maps is not None:
                        maps[f"gamma_i2g_L{level}"], maps[f"beta_i2g_L{level}"] = ia, ib
                    g = film(g, ia, ib)
                else:
                    g = getattr(self, f"norm{level}_g")(g)
                g = convs[level - 1][1](torch.relu(g))
            x = torch.relu(film(x, ga, gb))
            if level < 4:
                x = convs[level - 1][0](x)
        return self.decoder(self.pre_decoder(self.resnet(x)))


class _Unet(nn.Module):
    def __init__(self, input_nc, guide_nc, output_nc, num_downs, ngf, depth, bidirectional):
        super().__init__()
        assert num_downs >= 6
        self.num_downs, self.bidirectional = num_downs, bidirectional
        extra = num_downs - 5
        c = [ngf, ngf * 2, ngf * 4, ngf * 8]
        lrelu = lambda: nn.LeakyReLU(0.2, True)

        def encoder(prefix, in_nc):
            setattr(self, f"{prefix}1", nn.Sequential(nn.Conv2d(in_nc, ngf, 4, 2, 1)))
            for level in range(2, 5):
                setattr(self, f"{prefix}{level}", nn.Sequential(lrelu(), nn.Conv2d(c[level - 2], c[level - 1], 4, 2, 1)))
            setattr(self, prefix, nn.Sequential(*[m for _ in range(extra) for m in (lrelu(), nn.Conv2d(c[3], c[3], 4, 2, 1))]))

        def up(in_nc, out_nc, last=False):
            return [nn.ReLU(True), nn.ConvTranspose2d(in_nc, out_nc, 4, 2, 1), nn.Tanh() if last else instance_norm(out_nc)]

        encoder("downconv", input_nc)
        self.downconv5 = nn.Sequential(lrelu(), nn.Conv2d(c[3], c[3], 4, 2, 1))
        self.upconv1 = nn.Sequential(*up(c[3], c[3]))
        self.upconv = nn.Sequential(*[m for _ in range(extra) for m in up(c[3] * 2, c[3])])
        self.upconv2 = nn.Sequential(*up(c[3] * 2, c[2]))
        self.upconv3 = nn.Sequential(*up(c[2] * 2, c[1]))
        self.upconv4 = nn.Sequential(*up(c[1] * 2, c[0]))
        self.upconv5 = nn.Sequential(*up(c[0] * 2, output_nc, last=True))
        encoder("G_downconv", guide_nc)
        prefixes = ["", "G_"] if bidirectional else ["G_"]
        for prefix in prefixes:
            for level in range(2, 5):
                setattr(self, f"{prefix}bottleneck_alpha_{level}", nn.Sequential(*film_layers(c[level - 1], depth)))
                setattr(self, f"{prefix}bottleneck_beta_{level}", nn.Sequential(*film_layers(c[level - 1], depth)))
                if not bidirectional:
                    setattr(self, f"norm{level}_g", instance_norm(c[level - 1]))
            if not bidirectional:
                self.norm_g = instance_norm(c[3])
            for kind in ("alpha", "beta"):
                setattr(self, f"{prefix}bottleneck_{kind}",
                        nn.Sequential(*[m for _ in range(extra) for m in film_layers(c[3], depth)]))

    def _bottleneck(self, prefix, kind, level, x):
        if level <= 4:
            return getattr(self, f"{prefix}bottleneck_{kind}_{level}")(x)
        first = 3 * (level - 5)
        return getattr(self, f"{prefix}bottleneck_{kind}")[first:first + 3](x)

    def _down(self, prefix, level):
        if level <= 4:
            return getattr(self, f"{prefix}{level}")
        first = 2 * (level - 5)
        return getattr(self, prefix)[first:first + 2]

    def forward(self, x, g, maps=None):
        x, g = self.downconv1(x), self.G_downconv1(g)
        skips = [x]
        for level in range(2, self.num_downs):
            # The LeakyReLUs are in place and also rewrite the skip kept in `skips`, as in the authors' code;
            # harmless, since every skip passes a ReLU in the decoder.
            x, g = self._down("downconv", level)(x), self._down("G_downconv", level)(g)
            ga, gb = self._bottleneck("G_", "alpha", level, g), self._bottleneck("G_", "beta", level, g)
            if maps is not None:
                maps[f"gamma_g2i_L{level}"], maps[f"beta_g2i_L{level}"] = ga, gb
            if self.bidirectional:
                ia, ib = self._bottleneck("", "alpha", level, x), self._bottleneck("", "beta", level, x)
                if maps is not None:
                    maps[f"gamma_i2g_L{level}"], maps[f"beta_i2g_L{level}"] = ia, ib
                g = film(g, ia, ib)
            else:
                g = (getattr(self, f"norm{level}_g") if level <= 4 else self.norm_g)(g)
            x = film(x, ga, gb)
            skips.append(x)
        up = self.upconv1(self.downconv5(x))
        decoders = [self.upconv[3 * i:3 * i + 3] for i in range(self.num_downs - 5)]
        decoders += [self.upconv2, self.upconv3, self.upconv4, self.upconv5]
        for j, dec in enumerate(decoders, start=1):
            up = dec(torch.cat([skips[self.num_downs - 1 - j], up], 1))
        return up


def patchgan(input_nc, ndf=64, n_layers=3):
    """The PatchGAN discriminator of the paper's training (InstanceNorm, so every conv has a bias)."""
    layers = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, n_layers):
        prev, mult = mult, min(2 ** n, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1), instance_norm(ndf * mult), nn.LeakyReLU(0.2, True)]
    prev, mult = mult, min(2 ** n_layers, 8)
    layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1), instance_norm(ndf * mult), nn.LeakyReLU(0.2, True)]
    layers += [nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
    d = nn.Module()
    d.model = nn.Sequential(*layers)
    d.forward = lambda x: d.model(x)
    return d


def train_step_fn(g, d, lambda_l1=100.0, lr=2e-4, beta1=0.5):
    """One step of the paper's objective, as the reference's optimize_parameters makes it."""
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=(beta1, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=(beta1, 0.999))
    mse, l1 = nn.MSELoss(), nn.L1Loss()

    def step(a, guide, b):
        fake = g(a, guide)
        for p in d.parameters():
            p.requires_grad_(True)
        opt_d.zero_grad()
        pred_fake = d(torch.cat((a, guide, fake.detach()), 1))
        pred_real = d(torch.cat((a, guide, b), 1))
        loss_d = (mse(pred_fake, torch.zeros_like(pred_fake)) + mse(pred_real, torch.ones_like(pred_real))) * 0.5
        loss_d.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        opt_g.zero_grad()
        pred = d(torch.cat((a, guide, fake), 1))
        loss_g = mse(pred, torch.ones_like(pred)) + l1(fake, b) * lambda_l1
        loss_g.backward()
        opt_g.step()
    return step


def build(arch, input_nc, guide_nc, output_nc, ngf=64, n_blocks=9, num_downs=7, bottleneck_depth=100):
    arch = arch.lower()
    if arch in ("bft_resnet", "uft_resnet"):
        return _Resnet(input_nc, guide_nc, output_nc, ngf, n_blocks, bottleneck_depth, arch == "bft_resnet")
    if arch in ("bft_unet", "uft_unet"):
        return _Unet(input_nc, guide_nc, output_nc, num_downs, ngf, bottleneck_depth, arch == "bft_unet")
    raise ValueError(arch)


def check_fixtures(parity_dir):
    """Runs every official-parity case through this implementation; raises on any mismatch."""
    import numpy as np
    for case in json.load(open(os.path.join(parity_dir, "manifest.json"))):
        d = os.path.join(parity_dir, case["name"])
        net = build(case["arch"], case["input_nc"], case["guide_nc"], case["output_nc"], case["ngf"],
                    case.get("n_blocks", 9), case.get("num_downs", 7), case["bottleneck_depth"]).eval()
        net.load_state_dict(torch.load(os.path.join(d, "weights.pth"), map_location="cpu"), strict=True)
        x = torch.from_numpy(np.load(os.path.join(d, "input.npy")))
        g = torch.from_numpy(np.load(os.path.join(d, "guide.npy")))
        maps = {}
        with torch.no_grad():
            y = net(x, g, maps)
        tol = case["tolerance_max_abs"]
        err = (y - torch.from_numpy(np.load(os.path.join(d, "output.npy")))).abs().max().item()
        assert err <= tol, (case["name"], err)
        for m in case["film_maps"]:
            for kind in ("gamma", "beta"):
                ref = torch.from_numpy(np.load(os.path.join(d, f"{kind}_{m}.npy")))
                e = (maps[f"{kind}_{m}"] - ref).abs().max().item()
                assert e <= tol, (case["name"], kind, m, e)
        print(f"{case['name']}: max |ours - reference| = {err:.2e}")


if __name__ == "__main__":
    import sys
    check_fixtures(sys.argv[1])
    print("the PyTorch reference implementation matches every fixture")
