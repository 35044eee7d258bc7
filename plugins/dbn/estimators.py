"""Deep belief network estimators: a stack of RBMs trained greedily, one class per task.

- embed (`DBNEmbedder`): `transform` = hidden probabilities of the top layer.
- classify / regress (`DBNClassifier`, `DBNRegressor`): the pretrained stack becomes a sigmoid
  network with an output layer, fine-tuned by backpropagation (Hinton & Salakhutdinov, 2006).
  `pretrain_epochs=0` skips pretraining (a plain sigmoid network), so the search can tell
  whether pretraining pays on the data at hand.
- generate (`DBNGenerator`): block Gibbs sampling in the top RBM, then a mean-field down pass.
- detect (`DBNDetector`): `score_samples` = -free energy of the first RBM.
- denoise (`DBNDenoiser`): up-down reconstruction through the stack.

Time: pretraining and fine-tuning share the fit's deadline (`advisor.runtime.budget`) in fixed
proportions, so a 2-second deadline still yields every layer; every phase keeps its best or
last weights when its share runs out.
"""

from __future__ import annotations


import numpy as np
import torch
from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from advisor.sdk import (
    declared_init,
    derive_seed,
    fit_scope,
    minibatch_pass,
    numpy_rng,
    torch_generator,
    torch_seed,
)
from advisor_plugins.dbn.nets import FineTuneNet
from advisor_plugins.dbn.rbm import layer_budget


from advisor_plugins.dbn.base import CHUNK, FINETUNING, PRETRAINING, SEEDING, _DBNBase, _PretrainedOnly, pretraining, small_data_threads


class DBNEmbedder(TransformerMixin, _PretrainedOnly):
    """embed: `transform` returns the top layer's hidden probabilities."""

    __init__ = declared_init({**PRETRAINING, **SEEDING}, keyword_only=False)

    @small_data_threads
    def transform(self, X):
        check_is_fitted(self, "stack_")
        return self._up(self._encode(self._validated(X, reset=False)))


class DBNGenerator(_DBNBase):
    """generate: Gibbs sampling in the top RBM, then a mean-field down pass to the data.

    Chains start from independent Bernoulli (or Gaussian) draws matching the mean of the top
    RBM's inputs over the training rows, so no training row is copied into a sample.

    Parameters (beyond the shared ones):
        gibbs_steps: block Gibbs steps in the top RBM per sample.
    """

    __init__ = declared_init({**pretraining(persistent=True), "gibbs_steps": 200, **SEEDING}, keyword_only=False)

    @small_data_threads
    def fit(self, X, y=None):
        V = self._start(X)
        self.stack_, self.history_ = self._pretrain(V)
        top_input = self._up(V, len(self.sizes_) - 1)
        self.top_input_mean_ = top_input.mean(axis=0)
        self.top_input_sd_ = top_input.std(axis=0)
        return self

    @small_data_threads
    def sample(self, n, random_state=None):
        check_is_fitted(self, "stack_")
        seed = self.random_state if random_state is None else random_state
        dev = next(self.stack_.parameters()).device
        g = torch_generator(derive_seed(seed, "sample"), device=str(dev))
        top = self.stack_.rbms[-1]
        mean = torch.as_tensor(self.top_input_mean_, dtype=torch.float32, device=dev)
        parts = []
        with torch.no_grad():
            for start in range(0, int(n), CHUNK):
                m = min(CHUNK, int(n) - start)
                if top.visible == "bernoulli":
                    v = (torch.rand((m, top.n_visible), generator=g, device=dev) < mean.clamp(0, 1)).float()
                else:
                    sd = torch.as_tensor(self.top_input_sd_, dtype=torch.float32, device=dev)
                    v = mean + sd * torch.randn((m, top.n_visible), generator=g, device=dev)
                _, v_mean = top.gibbs(v, int(max(self.gibbs_steps, 1)), g)
                x = self.stack_.down(v_mean, len(self.stack_.rbms) - 1)
                parts.append(x.cpu().numpy())
        V = np.concatenate(parts) if parts else np.zeros((0, self.n_visible_))
        return self._decode_samples(V, numpy_rng(derive_seed(seed, "decode")))


class DBNDetector(_DBNBase):
    """detect: `score_samples` = -F(v), the free energy of the first RBM (higher = more normal);
    `predict` flags rows below the 5 % quantile of the training rows' scores as -1. Only the
    first RBM is trained: the free energy of the layers above does not enter the score."""

    __init__ = declared_init({**pretraining(hidden_layer_sizes=(64,), pretrain_epochs=50), **SEEDING}, keyword_only=False)

    @small_data_threads
    def fit(self, X, y=None):
        V = self._start(X)
        self.stack_, self.history_ = self._pretrain(V, layers=1)
        self.offset_ = float(np.quantile(self._scores(V), 0.05))
        return self

    def _scores(self, V):
        rbm = self.stack_.rbms[0]
        dev = rbm.W.device
        with torch.no_grad():
            parts = [(-rbm.free_energy(torch.as_tensor(V[i : i + CHUNK], device=dev))).cpu().numpy() for i in range(0, len(V), CHUNK)]
        return np.concatenate(parts).astype(np.float64)

    @small_data_threads
    def score_samples(self, X):
        check_is_fitted(self, "stack_")
        return self._scores(self._encode(self._validated(X, reset=False)))

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    @small_data_threads
    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)


class DBNDenoiser(TransformerMixin, _PretrainedOnly):
    """denoise: up through the stack with hidden probabilities, then a mean-field pass down:
    what the stack cannot represent (most of the noise) is left out."""

    __init__ = declared_init({**PRETRAINING, **SEEDING}, keyword_only=False)

    @small_data_threads
    def transform(self, X):
        check_is_fitted(self, "stack_")
        V = self._encode(self._validated(X, reset=False))
        dev = next(self.stack_.parameters()).device
        with torch.no_grad():
            parts = [self.stack_.down(self.stack_.up(torch.as_tensor(V[i : i + CHUNK], device=dev))).cpu().numpy() for i in range(0, len(V), CHUNK)]
        out = np.concatenate(parts) if parts else np.zeros_like(V)
        return self._decode_denoised(out, X)


class _FineTuned(_DBNBase):
    """Pretrain, then fine-tune the unrolled stack with an output layer.

    Parameters (beyond the shared ones):
        finetune_epochs, finetune_lr, dropout, patience: backpropagation (Adam), with early
            stopping on a validation share of the rows when there are enough of them.
        pretrain_share: share of the fit's time given to pretraining when there is a deadline.
        validation_fraction: rows held out for early stopping (none under 40 rows).
    """

    _torch_modules = ("net_",)

    def _with_target(self, X, y):
        """The validated rows and a 1-D target of the same length (scikit-learn's errors)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X = self._validated(X, reset=True)
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        return X, y

    def _fit_network(self, V, targets, loss_fn, strata=None):
        train_idx, valid_idx = self._holdout(len(V), derive_seed(self.random_state, "dbn"), strata=strata)
        share = float(self.pretrain_share) if int(self.pretrain_epochs) > 0 else 0.0
        self.history_ = {"pretrain": []}
        stack = None
        if share > 0:
            end = layer_budget([share, 1.0 - share])[0] if share < 1 else None
            with fit_scope(end, None):
                stack, self.history_["pretrain"] = self._pretrain(V, report=False)
        with torch_seed(derive_seed(self.random_state, "head")):
            net = FineTuneNet(self.n_visible_, self.sizes_, self.n_outputs_, self.dropout).to(self.device_)
        if stack is not None:
            net.load_stack(stack)
        Xt = torch.as_tensor(V[train_idx], device=self.device_)
        Yt = targets[train_idx].to(self.device_)
        opt = torch.optim.Adam(net.parameters(), lr=float(self.finetune_lr))
        g_cpu = torch_generator(derive_seed(self.random_state, "finetune"))
        bs = int(min(self.batch_size, len(Xt)))

        def batch_loss(idx):
            idx = idx.to(self.device_)
            return loss_fn(net(Xt[idx]), Yt[idx])

        def run_epoch(epoch):
            net.train()
            return minibatch_pass(opt, len(Xt), bs, batch_loss, generator=g_cpu)

        validate = None
        if len(valid_idx):
            Xv = torch.as_tensor(V[valid_idx], device=self.device_)
            Yv = targets[valid_idx].to(self.device_)

            def validate():
                net.eval()
                with torch.no_grad():
                    return -float(loss_fn(net(Xv), Yv))

        # Dropout draws from torch's global RNG: seed it (and give the user's stream back after).
        with torch_seed(derive_seed(self.random_state, "dropout")):
            h = self._run_epochs(run_epoch, self.finetune_epochs, validate=validate, module=net)
        # Predictions run in double precision, so that a row's output does not depend on
        # which other rows share its batch.
        net = net.double().eval()
        self.history_["finetune"] = self._record(h)
        self.net_ = net
        return net, valid_idx

    def _outputs(self, V) -> np.ndarray:
        dev = next(self.net_.parameters()).device
        with torch.no_grad():
            parts = [self.net_(torch.as_tensor(V[i : i + CHUNK], dtype=torch.float64, device=dev)).cpu().numpy() for i in range(0, len(V), CHUNK)]
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, self.n_outputs_))


class DBNClassifier(ClassifierMixin, _FineTuned):
    """classify: pretrained stack + softmax layer, fine-tuned on cross-entropy."""

    __init__ = declared_init({**pretraining(hidden_layer_sizes=(64,), pretrain_epochs=5, batch_size=32), **FINETUNING, **SEEDING}, keyword_only=False)

    @small_data_threads
    def fit(self, X, y):
        X, y = self._with_target(X, y)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes in the data, but the data contains only one class: {self.classes_[0]!r}")
        V = self._start(X, reset=False)
        self.n_outputs_ = len(self.classes_)
        self._fit_network(V, torch.as_tensor(codes, dtype=torch.long), torch.nn.functional.cross_entropy, strata=codes)
        return self

    @small_data_threads
    def predict_proba(self, X):
        check_is_fitted(self, "net_")
        logits = self._outputs(self._encode(self._validated(X, reset=False)))
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    @small_data_threads
    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class DBNRegressor(RegressorMixin, _FineTuned):
    """regress: pretrained stack + linear output, fine-tuned on squared error of the
    standardised target. `predict(X, return_std=True)` adds a constant spread: the root mean
    squared error on the rows held out for early stopping (on the training rows when none are),
    a plain, homoscedastic error bar rather than a per-row uncertainty."""

    __init__ = declared_init({**pretraining(hidden_layer_sizes=(64,), pretrain_epochs=5, batch_size=32), **FINETUNING, **SEEDING}, keyword_only=False)

    @small_data_threads
    def fit(self, X, y):
        X, y = self._with_target(X, y)
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        V = self._start(X, reset=False)
        self.y_mean_, sd = float(y.mean()), float(y.std())
        self.y_scale_ = sd if sd > 0 else 1.0
        self.n_outputs_ = 1
        target = torch.as_tensor(((y - self.y_mean_) / self.y_scale_).reshape(-1, 1), dtype=torch.float32)
        _, valid_idx = self._fit_network(V, target, torch.nn.functional.mse_loss)
        rows = valid_idx if len(valid_idx) else np.arange(len(y))
        pred = self._outputs(V[rows])[:, 0] * self.y_scale_ + self.y_mean_
        self.std_ = float(np.sqrt(np.mean((pred - y[rows]) ** 2)))
        return self

    @small_data_threads
    def predict(self, X, return_std=False):
        check_is_fitted(self, "net_")
        mean = self._outputs(self._encode(self._validated(X, reset=False)))[:, 0] * self.y_scale_ + self.y_mean_
        if return_std:
            return mean, np.full(len(mean), self.std_)
        return mean
