"""Self-play configuration: one dataclass, presets, a TOML file and ``key=value`` overrides.

The planner's options are nested (``config.planner``, a ``[planner]`` table, ``planner.KEY``), not
re-declared, so a default changes in one place. No planner option shares a name with a run
setting, so ``num_simulations=16`` is read as ``planner.num_simulations=16`` too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from staghunt_env import StagHuntConfig

from ..cli_args import (
    ENV_SCHEMA,
    PLANNER_ALIASES,
    PLANNER_SCHEMA,
    check_settings,
    merge_layers,
    parse_key_values,
    read_toml,
    schema_of,
)
from ..defaults import quick_game
from ..devices import check_device
from ..planner.options import PlannerOptions

PRESETS = ("quick", "paper")
THREADS = ("torch_threads", "numba_threads")
OPPONENT_MODELS = ("learned", "goal_free", "uniform")  # HOP, direct-OM, plain MCTS
# The players' own opponent-model learning is off: the trainer trains the models between iterations.
# bf16 where native: decisions agree with fp32 in 97-99% and self-play reward is unchanged
# (benchmarks/inference_precision.py); the quick preset's small networks stay in fp32, where
# bf16 does not pay at their batch sizes (benchmarks/forward_rates.py).
DEFAULT_PLANNER = PlannerOptions(learn_opponents=False, inference_dtype="auto")


@dataclasses.dataclass
class SelfPlayConfig:
    """Everything a run needs; the defaults are the ``paper`` preset (SPEC section 2)."""

    name: str = "selfplay"
    out_dir: str = "runs"
    seed: int = 0
    device: str = "auto"
    env: dict[str, Any] = dataclasses.field(default_factory=dict)  # staghunt_env keywords
    planner: PlannerOptions = DEFAULT_PLANNER  # search, networks, opponent models (SPEC section 2)
    num_games: int = 6  # games played at once (the original: 6 rollout workers)
    iterations: int = 100
    steps_per_iteration: int = 3000  # env steps (summed over agents) per training batch
    share_networks: bool = False  # one network for all seats instead of ToM1..ToMN
    # policy-value learning (AlphaZero; the learning rate is planner.lr)
    sgd_iterations: int = 15
    minibatch: int = 1024
    ranked_rewards: bool = False
    ranked_percentile: float = 75.0
    ranked_buffer: int = 1000
    ranked_initial: int = 100
    # bookkeeping
    checkpoint_every: int = 5
    keep_checkpoints: int = 3
    eval_episodes: int = 0  # evaluation episodes at the start and the end (0: none)
    gif_every: int = 0  # write a GIF of a recent episode every k iterations (0: at the end only)
    # Ray actors playing the games (0: in this process; None: one per free core where two or
    # more are free, see tom_agents.threads.auto_workers; a run records the count it used)
    workers: int | None = None
    ray_address: str | None = None
    progress: bool = True
    # Thread pools of this process (None: tom_agents.threads decides, OMP_NUM_THREADS and
    # NUMBA_NUM_THREADS, else 1); a run records the counts it used in its config.toml.
    torch_threads: int | None = None
    numba_threads: int | None = None

    def __post_init__(self) -> None:
        """Check every field's type (``planner`` may be a table of changes to the default)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if isinstance(self.planner, PlannerOptions):
            values["planner"] = dataclasses.asdict(self.planner)
        checked = check_settings(values, SCHEMA, "SelfPlayConfig")
        for name, value in checked.items():
            setattr(self, name, value)
        try:
            self.planner = dataclasses.replace(DEFAULT_PLANNER, **checked.get("planner", {}))
        except ValueError as e:
            raise ValueError(f"SelfPlayConfig.planner: {e}") from e
        # TOML has no tuples: keep env values as lists so a run's config.toml reads back equal
        self.env = _plain(checked.get("env", {}))
        try:
            self.device = check_device(self.device)
        except ValueError as e:
            raise ValueError(f"SelfPlayConfig.{e}") from e
        self._check_ranges()
        try:  # an unplayable game is refused now, not when training starts
            StagHuntConfig.make(**self.env)
        except (TypeError, ValueError) as e:
            raise ValueError(f"SelfPlayConfig.env: {e}") from e

    def _check_ranges(self) -> None:
        folder = Path(self.name)
        if not self.name or folder.is_absolute() or any(p in (".", "..") for p in folder.parts):
            raise ValueError(
                f"SelfPlayConfig.name must name a folder in out_dir, got {self.name!r}"
            )
        positive = ["num_games", "iterations", "steps_per_iteration", "sgd_iterations"]
        positive += ["minibatch", "ranked_buffer", "checkpoint_every", "keep_checkpoints"]
        network = ["hidden", "opponent_buffer_size", "opponent_epochs", "opponent_minibatch"]
        counts = [(name, getattr(self, name), 1) for name in positive]
        counts += [(f"planner.{name}", getattr(self.planner, name), 1) for name in network]
        counts += [(name, getattr(self, name), 0) for name in ("seed", "eval_episodes")]
        counts += [("gif_every", self.gif_every, 0)]
        counts += [("workers", self.workers, 0)] if self.workers is not None else []
        counts += [("ranked_initial", self.ranked_initial, 0)]
        counts += [(n, getattr(self, n), 1) for n in THREADS if getattr(self, n) is not None]
        counts += [("planner.channels", min(self.planner.channels), 1)]
        for name, value, least in counts:
            if value < least:
                raise ValueError(f"SelfPlayConfig.{name} must be >= {least}, got {value}")
        for name in ("lr", "opponent_lr"):
            if getattr(self.planner, name) <= 0:
                raise ValueError(f"SelfPlayConfig.planner.{name} must be > 0")
        if not 0 <= self.ranked_percentile <= 100:
            raise ValueError("SelfPlayConfig.ranked_percentile must be in [0, 100]")
        if self.planner.opponent_model not in OPPONENT_MODELS:
            raise ValueError(
                "SelfPlayConfig.planner.opponent_model must be 'learned' (HOP), 'goal_free' "
                f"(direct-OM) or 'uniform' (MCTS), got {self.planner.opponent_model!r}"
            )
        if self.planner.learn_opponents:
            raise ValueError(
                "SelfPlayConfig.planner.learn_opponents must be false: the trainer trains the "
                "opponent models between iterations"
            )
        if self.workers and self.num_games < self.workers:
            raise ValueError(f"num_games ({self.num_games}) must be >= workers ({self.workers})")

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name

    def planner_options(self) -> dict[str, Any]:
        """``planner`` as PlannerAgent keywords (what the trainer, workers and rollout pass on)."""
        return dataclasses.asdict(self.planner)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested data (lists, no tuples), equal after a JSON or TOML round trip."""
        return _plain(dataclasses.asdict(self))


SCHEMA = schema_of(SelfPlayConfig, env=ENV_SCHEMA, planner=PLANNER_SCHEMA)
assert not set(PLANNER_ALIASES) & set(SCHEMA), "a bare planner key would be ambiguous"


def preset(name: str) -> SelfPlayConfig:
    """``paper``: SPEC section 2. ``quick``: a few minutes on a laptop CPU, still learning."""
    if name == "paper":
        return SelfPlayConfig(name="paper")
    if name == "quick":
        return SelfPlayConfig(
            name="quick",
            env=quick_game(),
            planner=dataclasses.replace(
                DEFAULT_PLANNER,
                num_trees=2,
                num_simulations=16,
                lr=2e-3,
                opponent_lr=2e-3,
                opponent_buffer_size=300,
                opponent_epochs=8,
                opponent_minibatch=128,
                channels=(8, 16, 16),
                hidden=128,
                inference_dtype="float32",
            ),
            num_games=16,
            iterations=60,
            steps_per_iteration=600,
            share_networks=True,  # 4x the data per network: learning shows within minutes
            sgd_iterations=8,
            minibatch=256,
            checkpoint_every=10,
            eval_episodes=96,
        )
    raise ValueError(f"unknown preset {name!r}; presets: {PRESETS}")


def build_config(
    preset_name: str, layers: Iterable[tuple[str, Mapping[str, Any]]]
) -> SelfPlayConfig:
    """A preset, then each ``(source, values)`` layer over it; tables merge key by key.

    Values may be nested tables or dotted keys (``planner.num_simulations``); a bare planner
    key stands for its dotted form. Errors are ValueErrors naming the source and the key.
    """
    values = merge_layers(preset(preset_name).to_dict(), layers, SCHEMA, PLANNER_ALIASES)
    return SelfPlayConfig(**values)


def load_config(
    preset_name: str = "quick", path: str | Path | None = None, overrides: Iterable[str] = ()
) -> SelfPlayConfig:
    """A preset, then a TOML file's keys, then ``key=value`` overrides (values parsed as TOML)."""
    layers = [] if path is None else [(f"config file {path}", read_toml(path))]
    layers.append(("--set", parse_key_values(overrides)))
    return build_config(preset_name, layers)


def to_toml(config: SelfPlayConfig) -> str:
    """The resolved config as TOML (written beside the run's outputs): ``[env]``, ``[planner]``."""
    lines, tables = [], []
    for key, value in config.to_dict().items():
        if isinstance(value, dict):
            tables.append(f"\n[{key}]")
            tables += [f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        elif value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)  # JSON's string escapes are TOML's
    return repr(value)


def _plain(value: Any) -> Any:
    """Tuples as lists, all the way down (what TOML and JSON give back)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
