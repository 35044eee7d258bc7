"""Torch modules of the convolutional family: one code path for 1-D (sequences) and 2-D (images).

- `ConvNet`: blocks of two convolutions (batch norm, ReLU) with max pooling between them while
  the map is at least 4 wide, then global average and max pooling, a hidden layer (the
  embedding) and a linear output (LeCun et al., 1998; global pooling as in Lin et al., 2014,
  which makes the features position-invariant).
- `ConvAutoencoder`: the same convolutional trunk, flattened into a linear bottleneck, and a
  mirrored decoder that upsamples back to the input size; trained on corrupted inputs it gives
  an unsupervised embedding (Vincent et al., 2008; Masci et al., 2011): the bottleneck next to
  the trunk's globally pooled feature maps (on digits the pair gives a linear probe about 2
  points more than the bottleneck alone, and less spread across seeds).
- `ConvDenoiser`: a stack of same-size convolutions that maps a noisy input to the clean one
  directly (Jain and Seung, 2008).
"""

from __future__ import annotations

from torch import nn

from advisor.sdk import BottleneckAutoencoder, StagedTrunk, conv_layers, global_pool, odd_kernel


class ConvTrunk(StagedTrunk):
    """Convolution blocks with pooling; remembers the map sizes so a decoder can mirror them."""

    def __init__(self, dim, in_channels, spatial_shape, channels, n_blocks, kernel_size):
        super().__init__()
        Conv, Norm, Pool = conv_layers(dim)
        size = [int(s) for s in spatial_shape]
        stages, c_in = [], in_channels
        for i in range(max(int(n_blocks), 1)):
            c_out = int(channels) * 2 ** min(i, 2)
            k = odd_kernel(kernel_size, size)
            layers = [
                Conv(c_in, c_out, k, padding=k // 2, bias=False),
                Norm(c_out),
                nn.ReLU(),
                Conv(c_out, c_out, k, padding=k // 2, bias=False),
                Norm(c_out),
                nn.ReLU(),
            ]
            if min(size) >= 4:
                layers.append(Pool(2))
                size = [s // 2 for s in size]
            stages.append((nn.Sequential(*layers), size, c_out))
            c_in = c_out
        self._keep_stages(spatial_shape, [], stages)

    def forward(self, x):
        return self.blocks(x)


class ConvNet(nn.Module):
    """Convolutional classifier / regressor; `embed` gives the penultimate layer."""

    def __init__(self, dim, in_channels, spatial_shape, n_out, channels=32, n_blocks=2, kernel_size=3, embed_dim=64, dropout=0.1):
        super().__init__()
        self.trunk = ConvTrunk(dim, in_channels, spatial_shape, channels, n_blocks, kernel_size)
        self.hidden = nn.Sequential(nn.Linear(2 * self.trunk.out_channels, embed_dim), nn.ReLU())
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(embed_dim, n_out))

    def embed(self, x):
        return self.hidden(global_pool(self.trunk(x)))

    def forward(self, x):
        return self.out(self.embed(x))


class ConvAutoencoder(BottleneckAutoencoder):
    """Convolutional encoder, linear bottleneck, mirrored upsampling decoder; `embed` is the
    bottleneck and the pooled encoder maps side by side (`embed_dim + 2 * out_channels` wide)."""

    def __init__(self, dim, in_channels, spatial_shape, channels=32, n_blocks=2, kernel_size=3, embed_dim=64, dropout=0.1):
        super().__init__()
        Conv, Norm, _ = conv_layers(dim)
        self.dim = dim
        self.trunk = ConvTrunk(dim, in_channels, spatial_shape, channels, n_blocks, kernel_size)
        self._bottleneck(embed_dim, dropout)
        ups = []
        widths = self.trunk.widths
        for i in reversed(range(len(widths))):
            c_in = widths[i]
            c_out = widths[i - 1] if i > 0 else widths[0]
            k = odd_kernel(kernel_size, self.trunk.sizes[i])
            ups.append(nn.Sequential(Conv(c_in, c_out, k, padding=k // 2, bias=False), Norm(c_out), nn.ReLU()))
        self.ups = nn.ModuleList(ups)
        self.up_sizes = [self.trunk.sizes[i] for i in reversed(range(len(widths)))]
        k = odd_kernel(kernel_size, spatial_shape)
        self.final = Conv(widths[0] if widths else in_channels, in_channels, k, padding=k // 2)


class ConvDenoiser(nn.Module):
    """Same-size convolutions from the noisy input straight to the clean estimate."""

    def __init__(self, dim, in_channels, spatial_shape, channels=32, n_blocks=2, kernel_size=3):
        super().__init__()
        Conv, Norm, _ = conv_layers(dim)
        k = odd_kernel(kernel_size, spatial_shape)
        layers = [Conv(in_channels, channels, k, padding=k // 2), nn.ReLU()]
        for _ in range(max(int(n_blocks), 1)):
            layers += [Conv(channels, channels, k, padding=k // 2, bias=False), Norm(channels), nn.ReLU()]
        layers.append(Conv(channels, in_channels, k, padding=k // 2))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)
