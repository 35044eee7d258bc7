"""Convolutional estimators, one per task: 2-D convolutions for images, 1-D for sequences.

Images come as pixel columns with `image_shape=(H, W[, C])`, or as `(N, H, W[, C])` arrays;
any other 2-D input is read as one ordered sequence per row (its columns in order). The net
(`advisor_plugins.cnn.nets`) is built lazily inside `fit`; the shared training loop, input
handling and saving are the SDK's deep estimator base (`advisor.sdk.DeepEstimator`).
"""

from __future__ import annotations

from advisor.sdk import DeepClassifier, DeepDenoiser, DeepEmbedder, DeepRegressor, declared_init, deep_training


class _ConvNetMixin:
    """Hyperparameters and architecture shared by the convolutional estimators.

    Parameters:
        image_shape: (H, W) or (H, W, C) of the pixel columns; None reads rows as sequences
            (arrays shaped (N, H, W[, C]) are images whatever this says).
        modality: "auto", "image" or "sequence".
        channels: width of the first block; each later block doubles it (up to 4x).
        n_blocks: convolution blocks (two convolutions each, max pooling after each block while
            the map is at least 4 wide).
        kernel_size: convolution kernel size (odd; capped at the input size).
        embed_dim: width of the hidden layer after global pooling (the embedding).
        dropout: dropout before the output layer.
        max_epochs, batch_size, lr, weight_decay: AdamW training with a cosine decay of the
            learning rate over `max_epochs`.
        patience: epochs without a better validation score before stopping.
        validation_fraction: share of the rows held out for early stopping and pruning reports.
        augment: shift each training image / sequence at random by up to 1/8 of its size.
        n_threads: torch CPU threads during fit and predict (None: torch's own setting); one by
            default, as small convolutions run faster on one thread when cores are shared.
        random_state: seed (int) for initialisation, batches, augmentation and the split.
        device: "auto", "cpu" or "cuda".
    """

    _default_layout = "sequence"

    def _layout(self, X) -> str:
        layout = super()._layout(X)
        if layout == "tabular":
            raise ValueError("convolutions need images or ordered sequences, not an unordered table")
        return layout

    def _make_net(self, spec: dict):
        from advisor_plugins.cnn import nets

        dim = 2 if spec["layout"] == "image" else 1
        shape = spec["spatial_shape"]
        common = dict(channels=int(self.channels), n_blocks=int(self.n_blocks), kernel_size=int(self.kernel_size))
        if spec["head"] == "predict":
            return nets.ConvNet(dim, spec["in_channels"], shape, spec["n_out"], embed_dim=int(self.embed_dim), dropout=float(self.dropout), **common)
        if spec["head"] == "autoencode":
            return nets.ConvAutoencoder(dim, spec["in_channels"], shape, embed_dim=int(self.embed_dim), dropout=float(self.dropout), **common)
        return nets.ConvDenoiser(dim, spec["in_channels"], shape, **common)


# The hyperparameters, declared once (advisor.sdk.declared_init builds each __init__ from them).
_INPUT = {"image_shape": None, "modality": "auto"}
_ARCHITECTURE = {"channels": 16, "n_blocks": 2, "kernel_size": 3, "embed_dim": 64, "dropout": 0.1}


class _PredictorParams(_ConvNetMixin):
    __init__ = declared_init({**_INPUT, **_ARCHITECTURE, **deep_training()})


class _UnsupervisedParams(_ConvNetMixin):
    """As the predictors, plus `max_noise`: the largest training noise level (pixel-range units
    for images, standard deviations otherwise)."""

    __init__ = declared_init({**_INPUT, **_ARCHITECTURE, "max_noise": 0.5, **deep_training()})


class CNNClassifier(_PredictorParams, DeepClassifier):
    """Convolutional classifier for images and sequences (softmax over the classes)."""


class CNNRegressor(_PredictorParams, DeepRegressor):
    """Convolutional regressor for images and sequences (squared error on a standardised target)."""


class CNNEmbedder(_UnsupervisedParams, DeepEmbedder):
    """Convolutional embedding: the penultimate layer of a supervised net when `fit` gets a
    target, else the bottleneck of a denoising convolutional autoencoder."""


class CNNDenoiser(_UnsupervisedParams, DeepDenoiser):
    """Convolutional denoiser: trained to map noisy copies of clean inputs back to them."""


BY_TASK = {"classify": CNNClassifier, "regress": CNNRegressor, "embed": CNNEmbedder, "denoise": CNNDenoiser}
