"""Residual estimators, one per task: a residual MLP for tables, a residual CNN for images and
sequences.

Tables (any 2-D input by default) go through the core's `TabularEncoder` (quantile or standard
scaling of numerics with missing-value indicators, one-hot categoricals, missing as a level);
images come as pixel columns with `image_shape=(H, W[, C])` or as `(N, H, W[, C])` arrays;
`modality="sequence"` reads each row as an ordered signal. The input handling, the training
loop and saving are the SDK's deep estimator base (`advisor.sdk.DeepEstimator` and its task
classes), which the convolutional family uses too.
"""

from __future__ import annotations

from advisor.sdk import DeepClassifier, DeepDenoiser, DeepEmbedder, DeepRegressor, declared_init, deep_training


class _ResNetMixin:
    """Hyperparameters and architecture shared by the residual estimators.

    Parameters:
        image_shape: (H, W) or (H, W, C) of pixel columns; None reads 2-D input as a table
            (arrays shaped (N, H, W[, C]) are images whatever this says).
        modality: "auto", "tabular", "image" or "sequence".
        width: units of the residual MLP (tables) or channels of the first residual block
            (images, sequences; later blocks double it, up to 4x, when they downsample).
        n_blocks: residual blocks.
        hidden_factor: the MLP block's hidden layer is `hidden_factor * width` wide.
        kernel_size: convolution kernel size (images, sequences).
        embed_dim: bottleneck width of the autoencoder (embed without a target).
        dropout: dropout inside each MLP block, and before the output of the CNN.
        residual_dropout: dropout on each MLP block's output, before the skip is added.
        scaling: "quantile" or "standard" scaling of numeric table columns.
        max_epochs, batch_size, lr, weight_decay: AdamW with a cosine learning-rate decay.
        patience: epochs without a better validation score before stopping.
        validation_fraction: share of the rows held out for early stopping and pruning reports.
        augment: random shifts of images and sequences by up to 1/8 of their size.
        n_threads: torch CPU threads during fit and predict (None: torch's own setting).
        random_state: seed (int) for initialisation, batches, augmentation and the split.
        device: "auto", "cpu" or "cuda".
    """

    _default_layout = "tabular"

    def _make_net(self, spec: dict):
        from advisor_plugins.resnet import nets

        head, layout = spec["head"], spec["layout"]
        if layout == "tabular":
            mlp = dict(
                width=int(self.width),
                n_blocks=int(self.n_blocks),
                hidden_factor=float(self.hidden_factor),
                residual_dropout=float(self.residual_dropout),
            )
            d_in = spec["in_channels"]
            if head == "predict":
                return nets.ResMLP(d_in, spec["n_out"], dropout=float(self.dropout), **mlp)
            if head == "autoencode":
                return nets.ResMLPAutoencoder(d_in, dropout=float(self.dropout), embed_dim=int(self.embed_dim), **mlp)
            return nets.ResMLPDenoiser(d_in, dropout=0.0, **mlp)
        dim = 2 if layout == "image" else 1
        conv = dict(channels=int(self.width), n_blocks=int(self.n_blocks), kernel_size=int(self.kernel_size))
        shape = spec["spatial_shape"]
        if head == "predict":
            return nets.ResCNN(dim, spec["in_channels"], shape, spec["n_out"], dropout=float(self.dropout), **conv)
        if head == "autoencode":
            return nets.ResCNNAutoencoder(dim, spec["in_channels"], shape, dropout=float(self.dropout), embed_dim=int(self.embed_dim), **conv)
        return nets.ResCNNDenoiser(dim, spec["in_channels"], shape, **conv)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        return tags


# The hyperparameters, declared once (advisor.sdk.declared_init builds each __init__ from them).
_INPUT = {"image_shape": None, "modality": "auto"}
_ARCHITECTURE = {"width": 64, "n_blocks": 2, "hidden_factor": 2.0, "kernel_size": 3}
_REGULARISATION = {"dropout": 0.1, "residual_dropout": 0.0, "scaling": "quantile"}
_TRAINING = deep_training(max_epochs=30)


class _PredictorParams(_ResNetMixin):
    __init__ = declared_init({**_INPUT, **_ARCHITECTURE, **_REGULARISATION, **_TRAINING})


class _UnsupervisedParams(_ResNetMixin):
    """As the predictors, plus `embed_dim` and `max_noise` (the largest training noise level:
    pixel-range units for images, standard deviations otherwise)."""

    __init__ = declared_init({**_INPUT, **_ARCHITECTURE, "embed_dim": 32, **_REGULARISATION, "max_noise": 0.5, **_TRAINING})


class ResNetClassifier(_PredictorParams, DeepClassifier):
    """Residual classifier: residual MLP on tables, residual CNN on images and sequences."""


class ResNetRegressor(_PredictorParams, DeepRegressor):
    """Residual regressor: residual MLP on tables, residual CNN on images and sequences."""


class ResNetEmbedder(_UnsupervisedParams, DeepEmbedder):
    """Residual embedding: penultimate features of a supervised net when `fit` gets a target,
    else the bottleneck of a denoising residual autoencoder."""


class ResNetDenoiser(_UnsupervisedParams, DeepDenoiser):
    """Residual denoiser: estimates the noise and subtracts it from the input."""


BY_TASK = {"classify": ResNetClassifier, "regress": ResNetRegressor, "embed": ResNetEmbedder, "denoise": ResNetDenoiser}
