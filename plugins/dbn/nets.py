"""Torch modules of the deep belief network: the stack of RBMs, and the feed-forward network
that fine-tuning builds from it."""

from __future__ import annotations

import torch
from torch import nn

from advisor_plugins.dbn.rbm import RBM


class RBMStack(nn.Module):
    """RBMs from the data up: the first has the data's visible kind, the others are
    Bernoulli-Bernoulli on the hidden probabilities of the one below."""

    def __init__(self, n_visible: int, hidden_sizes, visible: str):
        super().__init__()
        sizes = [int(n_visible)] + [int(h) for h in hidden_sizes]
        self.rbms = nn.ModuleList(
            [RBM(sizes[i], sizes[i + 1], visible if i == 0 else "bernoulli") for i in range(len(sizes) - 1)]
        )

    def up(self, v: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        """Hidden probabilities after `layers` RBMs (all by default)."""
        for rbm in self.rbms[: len(self.rbms) if layers is None else layers]:
            v = rbm.hidden_probs(v)
        return v

    def down(self, h: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        """Mean-field down pass from the top of the first `layers` RBMs to the data."""
        for rbm in reversed(self.rbms[: len(self.rbms) if layers is None else layers]):
            h = rbm.visible_mean(h)
        return h


class FineTuneNet(nn.Module):
    """The stack unrolled into a sigmoid network with an output layer (Hinton & Salakhutdinov,
    2006): each hidden layer starts from an RBM's weights and hidden biases."""

    def __init__(self, n_in: int, hidden_sizes, n_out: int, dropout: float = 0.0):
        super().__init__()
        sizes = [int(n_in)] + [int(h) for h in hidden_sizes]
        self.hidden = nn.ModuleList([nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)])
        self.drop = nn.Dropout(float(dropout))
        self.out = nn.Linear(sizes[-1], int(n_out))

    def load_stack(self, stack: RBMStack) -> None:
        with torch.no_grad():
            for layer, rbm in zip(self.hidden, stack.rbms):
                layer.weight.copy_(rbm.W.T)
                layer.bias.copy_(rbm.c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = self.drop(torch.sigmoid(layer(x)))
        return self.out(x)
