"""The energy-based family: metadata, search space and estimator factory.

An energy-based model assigns low energy to data and high energy elsewhere. It is flexible
(any network can be the energy) and reads naturally as an anomaly score and as a denoiser, but
sampling needs Markov chains (slow) and contrastive training can be unstable; see
`advisor_plugins.ebm.estimators` for the training methods and the stabilisers used. Told a
categorical target of a table (`--task generate --target COL`), the generator learns the energy
of the other columns given the class.

Search space (Optuna, define-by-run):

    training        dsm | cd (generate only) (cd: contrastive divergence with SGLD; dsm is the default)
    width           32 .. 256 (log)          hidden width (images: width / 4 channels); 16 .. 64
                                             for tables under 1000 rows
    depth           2 .. 4                   hidden layers (tables)
    learning_rate   3e-4 .. 3e-3 (log)
    batch_size      64 | 128 | 256
    spectral_norm   False | True
    dsm only:  n_sigmas 4 .. 16, sigma_min 0.01 .. 0.3 (log)
    cd only:   sgld_steps 10 .. 40, sgld_step 1e-3 .. 3e-2 (log), energy_reg 0.01 .. 1 (log)
    generate:  langevin_steps 10 .. 100 (log), langevin_step 0.02 .. 0.5 (log), numeric quantile | standard
    detect:    detect_scale 0.25 .. 2 (log; the level in nearest-neighbour distances), numeric quantile | standard

Classification as a joint energy model (JEM, Grathwohl et al., 2020) is declined: JEM needs
SGLD sampling at every training step, its authors report runs that diverge and need restarts,
and its accuracy stays below that of the same network trained as a plain classifier (92.9 %
against 95.8 % on CIFAR-10 in their paper) at many times the cost. The boosted trees and the
other neural families are the better advice for classification.
"""

from __future__ import annotations

from advisor.sdk import Family, Interpretability, Support, Uncertainty, family_prior

NOT_CLASSIFY = (
    "ebm declines classify: a joint energy model trains slowly and unstably (SGLD at every step) "
    "and is not more accurate than a plain classifier; use gradient boosting, dbn or bnn"
)


class EnergyBasedModel(Family):
    name = "ebm"
    title = "Energy-based model (score matching, Langevin sampling)"
    tasks = frozenset({"generate", "detect", "denoise"})
    modalities = frozenset({"tabular", "image"})
    interpretability = Interpretability(
        0.3, "one energy per row tells how typical it is, and its gradient shows which features make it atypical; the network itself is opaque"
    )
    uncertainty = Uncertainty(
        "implicit", "energies are unnormalised log-densities: they rank how typical a row is, but give no calibrated probability or interval"
    )
    cost = "high"

    def supports(self, task, profile):
        if task == "classify":
            return Support(False, NOT_CLASSIFY)
        if profile.modality == "sequence":
            return Support(False, "ebm takes tables and images; a sequence has no energy network here (use the cnn family)")
        return super().supports(task, profile)

    def prior(self, task, profile):
        # Seeds: flexible densities, but slow and unstable MCMC sampling.
        hint = {"detect": 0.8, "generate": 0.6, "denoise": 0.7}.get(task, 0.6)
        return family_prior(self, task, profile, fidelity_hint=hint, notes={
            "fidelity": "the seed documents: flexible energy landscapes, samples held back by MCMC",
            "compute": "slow, sometimes unstable MCMC sampling",
        })

    def default_params(self, task, profile):
        small = profile.modality == "tabular" and profile.n_rows < 1000
        params = {
            "training": "dsm",
            "width": 32 if small else 128,
            "depth": 2 if small else 3,
            "learning_rate": 1e-3,
            "batch_size": 128,
            "spectral_norm": False,
            "n_sigmas": 10,
            "sigma_min": 0.02 if profile.modality == "image" else 0.05,
        }
        if task == "generate":
            # Annealed Langevin needs tens of steps per level to settle (Song & Ermon use 100).
            params.update(langevin_steps=50 if profile.modality == "tabular" else 20, langevin_step=0.1)
        elif task == "detect":
            params["detect_scale"] = 0.5
        if task in ("generate", "detect") and profile.modality == "tabular":
            params["numeric"] = "quantile" if task == "generate" else "standard"
        return params

    def search_space(self, trial, task, profile):
        # Contrastive divergence is searched for generation only: its short-run chains do not
        # make the energy a faithful density away from the data (Nijkamp et al., 2020, "On the
        # anatomy of MCMC-based maximum likelihood learning of energy-based models"), so its
        # energies rank anomalies unreliably (the contrastive model a search once picked on
        # det_breast_cancer scored 0.19 ROC-AUC on its test rows, score matching 0.96), and it
        # has no noise levels for a Tweedie denoising step.
        searched = ["dsm", "cd"] if task == "generate" else ["dsm"]
        small = profile.modality == "tabular" and profile.n_rows < 1000
        params = {
            "training": trial.suggest_categorical("training", searched),
            # Fewer than 1000 rows: narrow networks, which cannot learn the rows themselves.
            "width": trial.suggest_int("width", 16, 64, log=True) if small else trial.suggest_int("width", 32, 256, log=True),
            "depth": trial.suggest_int("depth", 2, 4),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 3e-3, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
            "spectral_norm": trial.suggest_categorical("spectral_norm", [False, True]),
        }
        if params["training"] == "dsm":
            params["n_sigmas"] = trial.suggest_int("n_sigmas", 4, 16)
            params["sigma_min"] = trial.suggest_float("sigma_min", 0.01, 0.3, log=True)
        else:
            params["sgld_steps"] = trial.suggest_int("sgld_steps", 10, 40)
            params["sgld_step"] = trial.suggest_float("sgld_step", 1e-3, 3e-2, log=True)
            params["energy_reg"] = trial.suggest_float("energy_reg", 0.01, 1.0, log=True)
        if task == "generate":
            params["langevin_steps"] = trial.suggest_int("langevin_steps", 10, 100, log=True)
            params["langevin_step"] = trial.suggest_float("langevin_step", 0.02, 0.5, log=True)
        if task == "detect":
            params["detect_scale"] = trial.suggest_float("detect_scale", 0.25, 2.0, log=True)
        if task in ("generate", "detect") and profile.modality == "tabular":
            params["numeric"] = trial.suggest_categorical("numeric", ["quantile", "standard"])
        return params

    def make_estimator(self, task, profile, **params):
        from advisor_plugins.ebm import estimators

        cls = {"generate": estimators.EnergyGenerator, "detect": estimators.EnergyDetector, "denoise": estimators.EnergyDenoiser}[task]
        if task == "denoise":
            params.pop("numeric", None)
        image_shape = tuple(profile.image_shape) if profile.modality == "image" and profile.image_shape else None
        if task == "generate" and image_shape is None and profile.target and profile.target_kind in ("binary", "multiclass"):
            params = {"condition_on": profile.target, **params}  # the energy of the rest given the class (--target)
        return cls(image_shape=image_shape, **params)
