"""Torch modules of the residual family.

- `ResMLP`: the tabular ResNet of Gorishniy et al. (2021, "Revisiting Deep Learning Models for
  Tabular Data"): a linear stem, then blocks `x + Dropout(Linear(Dropout(ReLU(Linear(BN(x))))))`,
  and a head `Linear(ReLU(BN(x)))`. The skip connections keep gradients flowing, so depth is a
  search choice rather than a risk.
- `ResCNN`: a small residual convolutional net for images (2-D) and sequences (1-D): a stem
  convolution, basic blocks of two convolutions with an identity (or 1x1 projection) shortcut,
  stride-2 downsampling at the start of each later block while the map is at least 4 wide, and
  global average + max pooling (He et al., 2016).
- Autoencoders of both (a bottleneck between an encoder and a mirrored decoder) for unsupervised
  embeddings, and residual denoisers that predict the noise and subtract it from the input
  (residual learning, as DnCNN in Zhang et al., 2017).
"""

from __future__ import annotations

from torch import nn

from advisor.sdk import BottleneckAutoencoder, StagedTrunk, conv_layers, global_pool, odd_kernel


# -- tables -----------------------------------------------------------------------------------
class ResidualMLPBlock(nn.Module):
    def __init__(self, width, hidden, dropout, residual_dropout):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm1d(width),
            nn.Linear(width, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, width),
            nn.Dropout(residual_dropout),
        )

    def forward(self, x):
        return x + self.body(x)


class ResMLPTrunk(nn.Module):
    def __init__(self, d_in, width, n_blocks, hidden_factor, dropout, residual_dropout):
        super().__init__()
        hidden = max(1, int(round(width * hidden_factor)))
        self.stem = nn.Linear(d_in, width)
        self.blocks = nn.Sequential(*[ResidualMLPBlock(width, hidden, dropout, residual_dropout) for _ in range(int(n_blocks))])
        self.norm = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU())

    def forward(self, x):
        return self.norm(self.blocks(self.stem(x)))


class ResMLP(nn.Module):
    """Residual MLP predictor; `embed` is the normalised output of the last block."""

    def __init__(self, d_in, n_out, width=128, n_blocks=2, hidden_factor=2.0, dropout=0.1, residual_dropout=0.0):
        super().__init__()
        self.trunk = ResMLPTrunk(d_in, width, n_blocks, hidden_factor, dropout, residual_dropout)
        self.out = nn.Linear(width, n_out)

    def embed(self, x):
        return self.trunk(x)

    def forward(self, x):
        return self.out(self.trunk(x))


class ResMLPAutoencoder(nn.Module):
    """Residual MLP encoder -> linear bottleneck (`embed`) -> residual MLP decoder."""

    def __init__(self, d_in, width=128, n_blocks=2, hidden_factor=2.0, dropout=0.1, residual_dropout=0.0, embed_dim=16):
        super().__init__()
        self.encoder = ResMLPTrunk(d_in, width, n_blocks, hidden_factor, dropout, residual_dropout)
        self.bottleneck = nn.Linear(width, embed_dim)
        self.decoder = ResMLPTrunk(embed_dim, width, n_blocks, hidden_factor, dropout, residual_dropout)
        self.out = nn.Linear(width, d_in)

    def embed(self, x):
        return self.bottleneck(self.encoder(x))

    def forward(self, x):
        return self.out(self.decoder(self.embed(x)))


class ResMLPDenoiser(nn.Module):
    """Predicts the noise of a row with a residual MLP and subtracts it."""

    def __init__(self, d_in, width=128, n_blocks=2, hidden_factor=2.0, dropout=0.0, residual_dropout=0.0):
        super().__init__()
        self.trunk = ResMLPTrunk(d_in, width, n_blocks, hidden_factor, dropout, residual_dropout)
        self.noise = nn.Linear(width, d_in)

    def forward(self, x):
        return x - self.noise(self.trunk(x))


# -- images and sequences ---------------------------------------------------------------------
class BasicBlock(nn.Module):
    """Two convolutions with batch norm, plus the input (projected when the shape changes)."""

    def __init__(self, dim, c_in, c_out, kernel_size, stride=1):
        super().__init__()
        Conv, Norm, _ = conv_layers(dim)
        k = kernel_size
        self.body = nn.Sequential(
            Conv(c_in, c_out, k, stride=stride, padding=k // 2, bias=False),
            Norm(c_out),
            nn.ReLU(),
            Conv(c_out, c_out, k, padding=k // 2, bias=False),
            Norm(c_out),
        )
        self.skip = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(Conv(c_in, c_out, 1, stride=stride, bias=False), Norm(c_out))
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.body(x) + self.skip(x))


class ResConvTrunk(StagedTrunk):
    """Stem convolution and `n_blocks` basic blocks; later blocks halve the map and double the
    width (up to 4x) while the map is at least 4 wide."""

    def __init__(self, dim, in_channels, spatial_shape, channels, n_blocks, kernel_size):
        super().__init__()
        Conv, Norm, _ = conv_layers(dim)
        size = [int(s) for s in spatial_shape]
        k = odd_kernel(kernel_size, size)
        self.stem = nn.Sequential(Conv(in_channels, channels, k, padding=k // 2, bias=False), Norm(channels), nn.ReLU())
        stages, c_in = [], int(channels)
        for i in range(max(int(n_blocks), 1)):
            stride = 2 if i > 0 and min(size) >= 4 else 1
            c_out = int(channels) * 2 ** min(i, 2) if stride == 2 or i == 0 else c_in
            if stride == 2:
                size = [(s + 1) // 2 for s in size]
            stages.append((BasicBlock(dim, c_in, c_out, odd_kernel(kernel_size, size), stride), size, c_out))
            c_in = c_out
        self._keep_stages(spatial_shape, [int(channels)], stages)

    def forward(self, x):
        return self.blocks(self.stem(x))


class ResCNN(nn.Module):
    """Residual CNN predictor; `embed` is the globally pooled feature vector."""

    def __init__(self, dim, in_channels, spatial_shape, n_out, channels=32, n_blocks=2, kernel_size=3, dropout=0.1):
        super().__init__()
        self.trunk = ResConvTrunk(dim, in_channels, spatial_shape, channels, n_blocks, kernel_size)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * self.trunk.out_channels, n_out))

    def embed(self, x):
        return global_pool(self.trunk(x))

    def forward(self, x):
        return self.out(self.embed(x))


class ResCNNAutoencoder(BottleneckAutoencoder):
    """Residual CNN encoder, linear bottleneck, decoder of upsampling + basic blocks; `embed`
    is the bottleneck next to the pooled encoder maps, as in the convolutional autoencoder."""

    def __init__(self, dim, in_channels, spatial_shape, channels=32, n_blocks=2, kernel_size=3, dropout=0.1, embed_dim=64):
        super().__init__()
        Conv, _, _ = conv_layers(dim)
        self.trunk = ResConvTrunk(dim, in_channels, spatial_shape, channels, n_blocks, kernel_size)
        self._bottleneck(embed_dim, dropout)
        widths, sizes = self.trunk.widths, self.trunk.sizes
        self.up_sizes = [sizes[i] for i in reversed(range(len(sizes) - 1))]
        self.ups = nn.ModuleList(
            BasicBlock(dim, widths[i + 1], widths[i], odd_kernel(kernel_size, sizes[i])) for i in reversed(range(len(widths) - 1))
        )
        k = odd_kernel(kernel_size, spatial_shape)
        self.final = Conv(widths[0], in_channels, k, padding=k // 2)


class ResCNNDenoiser(nn.Module):
    """Full-resolution residual blocks estimate the noise; the output is the input minus it."""

    def __init__(self, dim, in_channels, spatial_shape, channels=32, n_blocks=2, kernel_size=3):
        super().__init__()
        Conv, Norm, _ = conv_layers(dim)
        k = odd_kernel(kernel_size, spatial_shape)
        self.stem = nn.Sequential(Conv(in_channels, channels, k, padding=k // 2), nn.ReLU())
        self.blocks = nn.Sequential(*[BasicBlock(dim, channels, channels, k) for _ in range(max(int(n_blocks), 1))])
        self.noise = Conv(channels, in_channels, k, padding=k // 2)

    def forward(self, x):
        return x - self.noise(self.blocks(self.stem(x)))
