"""Self-play configuration: one dataclass, presets, a TOML file and ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

from ..cli_args import parse_key_values
from ..planner.options import PlannerOptions

PRESETS = ("quick", "paper")


@dataclasses.dataclass
class SelfPlayConfig:
    """Everything a run needs; the defaults are the ``paper`` preset (SPEC section 2)."""

    name: str = "selfplay"
    out_dir: str = "runs"
    seed: int = 0
    device: str = "auto"
    env: dict[str, Any] = dataclasses.field(default_factory=dict)  # staghunt_env keywords
    num_games: int = 6  # games played at once (the original: 6 rollout workers)
    iterations: int = 100
    steps_per_iteration: int = 3000  # env steps (summed over agents) per training batch
    share_networks: bool = False  # one network for all seats instead of ToM1..ToMN
    opponent_model: str = "learned"  # "learned" (HOP), "goal_free" (direct-OM), "uniform" (MCTS)
    # search (SPEC section 2)
    num_trees: int = 5
    num_simulations: int = 200
    c_puct: float = 1.0
    gamma: float = 0.95
    beta: float = 2.0
    # policy-value learning (AlphaZero)
    lr: float = 5e-4
    sgd_iterations: int = 15
    minibatch: int = 1024
    ranked_rewards: bool = False
    ranked_percentile: float = 75.0
    ranked_buffer: int = 1000
    ranked_initial: int = 100
    # opponent models
    opponent_lr: float = 5e-4
    opponent_buffer_size: int = 1000
    opponent_epochs: int = 15
    opponent_minibatch: int = 512
    belief_discount: float = 0.995
    channels: tuple[int, int, int] = (16, 32, 32)
    hidden: int = 512
    # bookkeeping
    checkpoint_every: int = 5
    keep_checkpoints: int = 3
    eval_episodes: int = 0  # evaluation episodes at the start and the end (0: none)
    gif_every: int = 0  # write a GIF of a recent episode every k iterations (0: at the end only)
    workers: int = 0  # Ray actors playing the games (0: in this process)
    ray_address: str | None = None
    progress: bool = True
    torch_threads: int = 1  # small networks run fastest on one thread per process

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        # TOML has no tuples: keep env values as lists so a run's config.toml reads back equal
        self.env = {k: list(v) if isinstance(v, tuple) else v for k, v in self.env.items()}
        positive = ("num_games", "iterations", "steps_per_iteration", "num_trees")
        positive += ("num_simulations", "sgd_iterations", "minibatch", "checkpoint_every")
        positive += ("torch_threads",)
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.opponent_model not in ("learned", "goal_free", "uniform"):
            raise ValueError(
                "opponent_model must be 'learned' (HOP), 'goal_free' (direct-OM) or 'uniform' "
                f"(MCTS), got {self.opponent_model!r}"
            )
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.workers and self.num_games < self.workers:
            raise ValueError(f"num_games ({self.num_games}) must be >= workers ({self.workers})")

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name

    def planner_options(self) -> dict[str, Any]:
        """The PlannerAgent options this run uses (learning is done by the trainer)."""
        shared = {f.name for f in dataclasses.fields(PlannerOptions)} & set(self.to_dict())
        return {**{name: getattr(self, name) for name in shared}, "learn_opponents": False}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def preset(name: str) -> SelfPlayConfig:
    """``paper``: SPEC section 2. ``quick``: a few minutes on a laptop CPU, still learning."""
    if name == "paper":
        return SelfPlayConfig(name="paper")
    if name == "quick":
        return SelfPlayConfig(
            name="quick",
            env={"grid_size": [6, 6], "max_block_components": 3, "max_cycles": 20},
            num_games=16,
            iterations=60,
            steps_per_iteration=600,
            share_networks=True,  # 4x the data per network: learning shows within minutes
            num_trees=2,
            num_simulations=16,
            sgd_iterations=8,
            minibatch=256,
            lr=2e-3,
            opponent_lr=2e-3,
            opponent_buffer_size=300,
            opponent_epochs=8,
            opponent_minibatch=128,
            channels=(8, 16, 16),
            hidden=128,
            checkpoint_every=10,
            eval_episodes=96,
        )
    raise ValueError(f"unknown preset {name!r}; presets: {PRESETS}")


def load_config(
    preset_name: str = "quick", path: str | Path | None = None, overrides: list[str] = ()
) -> SelfPlayConfig:
    """A preset, then a TOML file's keys, then ``key=value`` overrides (values parsed as TOML)."""
    values = preset(preset_name).to_dict()
    if path is not None:
        with open(path, "rb") as f:
            values.update(_checked(tomllib.load(f), f"config file {path}"))
    values.update(_checked(parse_key_values(overrides), "--set"))
    return SelfPlayConfig(**values)


def _checked(values: dict[str, Any], source: str) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(SelfPlayConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{source}: unknown setting(s) {unknown}")
    return values


def to_toml(config: SelfPlayConfig) -> str:
    """The resolved config as TOML (written beside the run's outputs)."""
    lines, tables = [], []
    for key, value in config.to_dict().items():
        if isinstance(value, dict):
            tables.append(f"\n[{key}]")
            tables += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        elif value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
