"""Saving torch estimators without pickle.

`advisor` saves models with skops, which rebuilds objects from their state instead of running
code from the file. Torch modules are not in skops' vocabulary, so `TorchStateMixin` swaps each
module for its weights as plain numpy arrays when the estimator is saved, and rebuilds the
module (through the estimator's own `_build_module(attr)`) when it is loaded.
"""

from __future__ import annotations


class TorchStateMixin:
    """Mixin for estimators whose fitted state holds torch modules.

    Set `_torch_modules = ("net_",)` (the attributes holding `nn.Module`s) and implement
    `_build_module(attr) -> nn.Module` from the other fitted attributes (sizes, encoders).
    """

    _torch_modules: tuple[str, ...] = ("net_",)

    def __getstate__(self):
        state = dict(self.__dict__)
        for attr in self._torch_modules:
            module = state.get(attr)
            if module is not None and hasattr(module, "state_dict"):
                state[attr] = {"__torch_state__": {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for attr in self._torch_modules:
            value = state.get(attr)
            if isinstance(value, dict) and "__torch_state__" in value:
                import torch

                module = self._build_module(attr)
                tensors = {k: torch.as_tensor(v) for k, v in value["__torch_state__"].items()}
                module.load_state_dict(tensors)
                module.eval()
                setattr(self, attr, module)

    def _build_module(self, attr: str):  # abstract: each estimator knows its own architecture
        raise NotImplementedError(f"{type(self).__name__} must implement _build_module({attr!r})")
