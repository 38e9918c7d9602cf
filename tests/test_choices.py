"""The choices appendix states the configs' values: every number it gives for a config is checked here
against the code, so the table cannot drift from what the book computed."""

from pathlib import Path

import pytest

from modscale_lib import experiments, rule, tasks, theory
from modscale_lib.experiments import compositional_cifar

TEXT = (Path(__file__).resolve().parent.parent / "book" / "choices.md").read_text()
NOTATION = (Path(__file__).resolve().parent.parent / "book" / "notation.md").read_text()
ROWS = {line.split("|")[1].strip(): line for line in TEXT.splitlines() if line.startswith("| ") and "---" not in line}


def cfg(name, which="cpu"):
    return getattr(experiments, name).config(which)


def fmt_int(n: int) -> str:
    return f"{n:,}" if n >= 10_000 else str(n)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# row -> the phrases it must contain, built from the code
def _ks_without_rule() -> set:
    """The composite sizes k at which the CIFAR chapter's cpu config does not run the rule."""
    acc = cfg("compositional_accuracy")
    return set(acc.n_images_grid) - set(acc.rule_ks)


EXPECTED = {
    "first check": lambda: [
        f"$p = {cfg('pinv_moment').p}$",
        f"$N = {cfg('pinv_moment').n_min}..{cfg('pinv_moment').n_max}$",
        f"{cfg('pinv_moment').trials} draws per $N$",
        f"$p = {cfg('pinv_moment', 'full').p}$",
        f"$N$ up to {cfg('pinv_moment', 'full').n_max}",
        f"{fmt_int(cfg('pinv_moment', 'full').trials)} draws",
    ],
    "linear model, check": lambda: [
        f"$m = {cfg('linear_model_mc').input_dim}$",
        f"$\\alpha = {cfg('linear_model_mc').alpha:g}$",
        f"$P = {cfg('linear_model_mc').n_features}$",
        f"label noise {cfg('linear_model_mc').noise:g}",
        f"$p = {cfg('linear_model_mc').p_fixed}$",
        f"$n = {cfg('linear_model_mc').n_fixed}$",
        f"{cfg('linear_model_mc').trials} trials per point",
        f"$P = {cfg('linear_model_mc', 'full').n_features}$",
        f"{cfg('linear_model_mc', 'full').trials} trials",
    ],
    "spectrum, variant": lambda: [f"$\\Omega = {theory.exponent_geometric.__defaults__[0]:g}$"],
    "sine-wave task": lambda: [
        ", ".join(f"{f:g}" for f in tasks.DEFAULT_FREQUENCIES),
        ", ".join(f"{a:g}" for a in tasks.DEFAULT_AMPLITUDES),
    ],
    "out of distribution (sine)": lambda: [f"$s = {cfg('sample_complexity_sweep').ood_input_std:g}$"],
    "training (theory vs networks)": lambda: [
        f"{cfg('network_theory').steps} steps",
        f"{cfg('network_theory', 'full').steps} at `full`",
    ],
    "learning rule, optimisation": lambda: [
        f"step size {rule.DEFAULTS['lr']:g}",
        f"{rule.DEFAULTS['steps']} steps per search",
        f"minibatches of {rule.DEFAULTS['batch_size']}",
    ],
    "sample complexity": lambda: [
        f"{cfg('sample_complexity_sweep').mlp_depth} hidden layers of {cfg('sample_complexity_sweep').mlp_width} units",
        f"step {cfg('sample_complexity_sweep').mlp_lr:g}",
        f"{cfg('sample_complexity_sweep').module_depth} hidden layers of "
        f"{cfg('sample_complexity_sweep').module_width} units",
        f"step {cfg('sample_complexity_sweep').module_lr:g}",
        f"at most {cfg('sample_complexity_sweep').steps} Adam steps",
        f"minibatch {cfg('sample_complexity_sweep').batch_size}",
        f"{cfg('sample_complexity_sweep').n_val} validation samples",
        f"{cfg('sample_complexity_sweep').rule_steps} steps on minibatches of "
        f"{cfg('sample_complexity_sweep').rule_batch}",
        f"{len(cfg('sample_complexity_sweep').seeds)} seeds",
    ],
    "scaling law": lambda: [
        f"$p = {cfg('scaling_law_sweep').rf_features}$",
        f"{len(cfg('scaling_law_sweep').seeds)} seeds",
        f"from {2 ** (cfg('scaling_law_sweep').i_min // 2)} to {2 ** (cfg('scaling_law_sweep').i_max // 2)}",
        f"main target ${cfg('scaling_law_sweep').targets[0]:g}\\,",
        f"secondary ${cfg('scaling_law_sweep').targets[1]:g}$",
        f"over {cfg('scaling_law_sweep').steps} steps",
        f"{cfg('scaling_law_sweep').min_delta:.0%} plateau",
        f"$m \\in \\{{{cfg('scaling_law_sweep').m_grid[0]}, \\dots, {max(cfg('scaling_law_sweep').max_m[1:3])}\\}}$",
        f"to {cfg('scaling_law_sweep').m_grid[-1]} for random features",
    ],
    "Compositional CIFAR-10, split": lambda: [f"`holdout_mod={cfg('compositional_tuning').holdout_mod}`"],
    "Compositional CIFAR-10, noise": lambda: [f"$\\sigma = {cfg('compositional_accuracy').noise_sigma:g}$"],
    "Compositional CIFAR-10, networks": lambda: [
        ", ".join(str(w) for w in cfg("compositional_tuning").widths),
        ", ".join(str(d) for d in cfg("compositional_tuning").mono_depths) + " hidden layers",
        f"$b = {cfg('compositional_tuning').module_dim}$",
        "width chosen from " + ", ".join(str(w) for w in cfg("compositional_tuning").module_widths),
        f"above {cfg('compositional_tuning').flops_cap / 1e6:g} MFLOP per training composite",
    ],
    "Compositional CIFAR-10, training": lambda: [
        f"{fmt_int(cfg('compositional_accuracy').n_train)} training composites",
        f"minibatch {cfg('compositional_tuning').batch_size}",
        ", ".join(f"{lr:g}" for lr in cfg("compositional_tuning").mono_lrs) + " (MLP)",
        ", ".join(f"{lr:g}" for lr in cfg("compositional_tuning").modular_lrs) + " (modular)",
        f"{cfg('compositional_accuracy').epochs} epochs at `cpu`",
        f"{cfg('compositional_accuracy', 'full').epochs} at `full`",
        f"{len(cfg('compositional_accuracy').seeds)} seeds at `cpu`",
        f"{len(cfg('compositional_accuracy', 'full').seeds)} seeds at `full`",
        f"$k = {cfg('compositional_accuracy', 'cpu_epochs').n_images_grid[0]}$, "
        f"{cfg('compositional_accuracy', 'cpu_epochs').epochs} epochs",
        f"{cfg('compositional_tuning').rule_steps} turns per module on minibatches of "
        f"{cfg('compositional_tuning').rule_batch} from {cfg('compositional_tuning').rule_samples} composites",
    ],
    "Compositional CIFAR-10, budget": lambda: [
        f"at most {compositional_cifar.CPU_CAP_MIN:g} CPU-min",
        f"{cfg('compositional_accuracy').n_test} test composites per test at $k \\ge 2$",
        f"`cpu_epochs` trains {cfg('compositional_accuracy', 'cpu_epochs').epochs} epochs",
        f"not at $k = {min(_ks_without_rule())}$",
    ],
}


@pytest.mark.parametrize("row", sorted(EXPECTED))
def test_the_row_states_the_configs_values(row):
    assert row in ROWS, f"choices.md has no row {row!r}"
    missing = [phrase for phrase in EXPECTED[row]() if phrase not in ROWS[row]]
    assert not missing, f"row {row!r} of choices.md does not state {missing}; it reads:\n{ROWS[row]}"


def test_the_restarts_row_names_the_default_variant():
    assert f'default `"{rule.DEFAULTS["variant"]}"`' in ROWS["learning rule, restarts"]


def test_the_notation_page_states_the_module_count():
    """The CIFAR networks' module count is the first layer's width over the module dimension (cifar_tuning's
    ``_modular``); the notation row says so, and every width of the grids is a multiple of ``b``."""
    row = next(line for line in NOTATION.splitlines() if line.startswith("| $M$"))
    assert "$M = F/b$" in row and "`n_modules`" in row, row
    for which in ("cpu", "full"):
        tuning = cfg("compositional_tuning", which)
        assert all(w % tuning.module_dim == 0 for w in tuning.widths)
