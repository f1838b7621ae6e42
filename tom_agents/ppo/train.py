"""Train the model-free baseline: one Stable-Baselines3 PPO policy shared by every hunter.

This stands in for the paper's A3C. SuperSuit turns each game copy into one vector-env slot per
hunter, so every hunter's experience trains the same MlpPolicy on its flattened grid. Plain PPO
has no action masks: an illegal action is run by the env as STAY; ``PPOAgent`` masks at play time.

    tom-train-ppo --out runs/ppo/ppo.safetensors --timesteps 200000 --env grid_size=[5,5]
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import supersuit as ss
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import staghunt_env
from staghunt_env import StagHuntConfig

from .. import threads
from ..cli_args import (
    ENV_SCHEMA,
    RunOptions,
    add_common_options,
    add_run_options,
    check_settings,
    merge_layers,
    read_common_options,
    read_run_options,
    run_errors,
    schema_of,
    usage_errors,
)
from ..cli_help import game_help, new_parser, settings_help
from ..defaults import quick_game
from ..devices import check_device, resolve_device
from ..progress import Progress
from ..run_folders import Claim, NothingToResumeError, Place, claim
from .agent import check_env_config
from .checkpoint import PPO_KEYWORDS, new_model, read_checkpoint, save_checkpoint


@dataclasses.dataclass
class PPOConfig:
    """A PPO run. ``total_timesteps`` counts agent-steps (one per hunter per game step)."""

    out: str = "runs/ppo/ppo.safetensors"  # a tom_agents.checkpoints file (kind "ppo")
    # StagHuntConfig keywords; by default the quick self-play preset's game (tom_agents.defaults)
    env: dict[str, Any] = dataclasses.field(default_factory=quick_game)
    prosocial: bool = False  # every hunter is rewarded with the hunters' mean reward
    total_timesteps: int = 200_000
    num_envs: int = 8  # game copies; the vector env has num_envs * num_players slots
    seed: int = 0
    learning_rate: float = 3e-4
    n_steps: int = 128
    batch_size: int = 1024
    n_epochs: int = 4
    gamma: float = 0.99
    ent_coef: float = 0.01
    net_arch: tuple[int, ...] = (128, 128)
    checkpoint_every: int = 50_000
    device: str = "auto"
    progress: bool = True

    def __post_init__(self) -> None:
        """Check every field's type (``env`` against StagHuntConfig's), then the ranges."""
        self.out = os.fspath(self.out) if isinstance(self.out, os.PathLike) else self.out
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name, value in check_settings(values, _SCHEMA, "PPOConfig").items():
            setattr(self, name, value)
        positive = ("total_timesteps", "num_envs", "n_steps", "batch_size", "n_epochs")
        for name in (*positive, "checkpoint_every"):
            if getattr(self, name) <= 0:
                raise ValueError(f"PPOConfig.{name}: must be > 0, got {getattr(self, name)}")
        if self.seed < 0:
            raise ValueError(f"PPOConfig.seed: must be >= 0, got {self.seed}")
        if not self.out:
            raise ValueError("PPOConfig.out: must be a file path")
        if not self.learning_rate > 0:
            raise ValueError(f"PPOConfig.learning_rate: must be > 0, got {self.learning_rate}")
        if not 0 < self.gamma <= 1:
            raise ValueError(f"PPOConfig.gamma: must be in (0, 1], got {self.gamma}")
        if not self.ent_coef >= 0:
            raise ValueError(f"PPOConfig.ent_coef: must be >= 0, got {self.ent_coef}")
        if not self.net_arch or min(self.net_arch) <= 0:
            raise ValueError(
                f"PPOConfig.net_arch: must be positive layer widths, got {self.net_arch}"
            )
        try:
            check_device(self.device)
        except ValueError as e:
            raise ValueError(f"PPOConfig.{e}") from e
        self.env_config()  # refuse an unplayable game here, not when training starts

    def env_config(self) -> StagHuntConfig:
        """The game trained on: ``env``, with ``prosocial=True`` when ``prosocial`` is set."""
        keywords = {**self.env, "prosocial": True} if self.prosocial else dict(self.env)
        try:
            return StagHuntConfig.make(**keywords)
        except TypeError as e:  # unknown keywords
            raise ValueError(f"PPOConfig.env: {e}") from e


_SCHEMA = schema_of(PPOConfig, env=ENV_SCHEMA)


def make_vec_env(env_config: StagHuntConfig, num_envs: int, seed: int) -> VecEnv:
    """``num_envs`` game copies as one SB3 vector env with a slot per hunter; copy i seeded seed+i.

    Departed hunters see zeros (black death) until their game ends; VecMonitor logs episodes.
    """
    env = staghunt_env.box_observation(staghunt_env.parallel_env(config=env_config))
    env = ss.flatten_v0(ss.black_death_v3(env))  # PPOAgent feeds the same flattened grid
    vec_env = ss.pettingzoo_env_to_vec_env_v1(env)
    vec_env = ss.concat_vec_envs_v1(vec_env, num_envs, num_cpus=0, base_class="stable_baselines3")
    vec_env.venv.reset(seed=seed)  # SuperSuit's SB3 wrapper has no seed(): seed the copies below it
    with warnings.catch_warnings():  # SuperSuit's vector env has no render_mode for SB3 to read
        warnings.filterwarnings("ignore", "The `render_mode` attribute is not defined")
        return VecMonitor(vec_env)


def ppo_keywords(config: PPOConfig) -> dict[str, Any]:
    """Every ``PPO(...)`` keyword a checkpoint records: ``config``'s, and SB3's defaults for the
    rest, written out so that a resumed run keeps them whatever a later SB3 defaults to."""
    defaults = inspect.signature(PPO.__init__).parameters
    keywords = {name: defaults[name].default for name in PPO_KEYWORDS}
    for name in ("learning_rate", "n_steps", "batch_size", "n_epochs", "gamma", "ent_coef"):
        keywords[name] = getattr(config, name)
    keywords["policy_kwargs"] = {"net_arch": list(config.net_arch)}
    return keywords


class CheckpointCallback(BaseCallback):
    """Save every ``every`` timesteps, right after a PPO update, so the weights match the count."""

    def __init__(self, path: Path, every: int) -> None:
        super().__init__()
        self.path = path
        self.every = every
        self.saved_at = 0

    def _on_training_start(self) -> None:
        self.saved_at = self.model.num_timesteps

    def _on_rollout_start(self) -> None:
        if self.model.num_timesteps - self.saved_at >= self.every:
            save_checkpoint(self.model, self.path)
            self.saved_at = self.model.num_timesteps

    def _on_step(self) -> bool:
        return True


class ProgressCallback(BaseCallback):
    """Timesteps on the shared progress bar, and whether PPO is collecting or learning."""

    def __init__(self, bar: Progress) -> None:
        super().__init__()
        self.bar = bar

    def _on_rollout_start(self) -> None:
        self.bar.phase("collecting")

    def _on_step(self) -> bool:
        self.bar.advance(self.training_env.num_envs)
        return True

    def _on_rollout_end(self) -> None:
        self.bar.phase("learning")


def train_ppo(
    config: PPOConfig, resume: bool = False, overwrite: bool = False, fresh_file: bool = False
) -> Path:
    """Train until ``config.total_timesteps`` and write the checkpoint to ``config.out``.

    The checkpoint is rewritten atomically every ``checkpoint_every`` timesteps and at the end;
    it records the game configuration (``PPOAgent`` checks it), the PPO hyperparameters, the
    weights and the optimizer state (:mod:`tom_agents.ppo.checkpoint`). The file is claimed
    first (:func:`tom_agents.run_folders.claim`): locked while training, and an existing one is
    refused unless ``resume`` (go on from it, keeping its hyperparameters; a RunError names its
    fault when it cannot be resumed) or ``overwrite`` (replace it; with ``resume``, only when it
    cannot be resumed). ``fresh_file``: an existing checkpoint moves this run to
    ``<stem>_2<suffix>``, ... TensorBoard logs go to ``tensorboard/`` next to the checkpoint.
    Like SB3's own ``seed=``, this seeds the global random, numpy and torch generators, from
    ``seed`` plus the timesteps already done; a run is reproducible on the same machine and
    device. Returns the checkpoint's path.
    """
    env_config = config.env_config()
    place = Place.output_file(config.out)
    with claim(place, resume=resume, overwrite=overwrite, fresh=fresh_file, rename="--out") as held:
        out = held.path
        model = _resumed_model(held, config, env_config, overwrite) if resume else None
        done = 0 if model is None else model.num_timesteps
        if done < config.total_timesteps:
            _learn(config, env_config, out, model, done)
    return out


def _learn(
    config: PPOConfig, env_config: StagHuntConfig, out: Path, model: PPO | None, done: int
) -> None:
    with Progress(out.stem, config.total_timesteps, "step", config.progress) as bar:
        bar.start_at(done)
        bar.phase("setting up")
        set_random_seed(config.seed + done)
        vec_env = make_vec_env(env_config, config.num_envs, config.seed + done)
        tensorboard_log = str(out.parent / "tensorboard")
        if model is None:
            model = new_model(
                vec_env,
                env_config,
                ppo_keywords(config),
                tensorboard_log=tensorboard_log,
                device=resolve_device(config.device),
            )
        else:
            model.set_env(vec_env)
            model.tensorboard_log = tensorboard_log  # the folder may have moved with the checkpoint
        model.learn(
            total_timesteps=config.total_timesteps - done,
            callback=[CheckpointCallback(out, config.checkpoint_every), ProgressCallback(bar)],
            reset_num_timesteps=done == 0,
            tb_log_name=out.stem,
        )
        bar.phase("writing the checkpoint")
        save_checkpoint(model, out)
        bar.phase("done")


def _resumed_model(
    held: Claim, config: PPOConfig, env_config: StagHuntConfig, overwrite: bool
) -> PPO | None:
    """The checkpoint's model to go on from; None (its file removed) to start over instead."""
    out = held.path
    if not out.exists():  # only with overwrite: claim refuses to resume nothing otherwise
        return None
    try:
        model = read_checkpoint(out, config.device)
        check_env_config(model, env_config, out)
        copies = model.n_envs // env_config.num_players
        if copies != config.num_envs:
            raise ValueError(f"it was trained with num_envs={copies}, not {config.num_envs}")
    except ValueError as e:  # CheckpointError included
        if not overwrite:
            raise NothingToResumeError(out, [getattr(e, "reason", str(e))]) from e
        held.clear()
        return None
    return model


PROG = "tom-train-ppo"


def build_parser() -> argparse.ArgumentParser:
    defaults = dataclasses.asdict(PPOConfig())
    epilog = "\n\n".join(
        [
            settings_help(
                "settings, --set KEY=VALUE or in --config (default; type):", _SCHEMA, [defaults]
            ),
            game_help(defaults["env"]).replace("(default;", "or --set env.KEY=VALUE (default;"),
        ]
    )
    parser = new_parser(PROG, __doc__, epilog)
    parser.add_argument(
        "--out",
        help=f"checkpoint file (default: {PPOConfig.out}, numbered <stem>_2, ... when it exists)",
    )
    parser.add_argument(
        "--prosocial",
        action="store_true",
        help="reward every hunter with the hunters' mean reward (the policy then plays the "
        "ordinary game)",
    )
    parser.add_argument(
        "--timesteps",
        type=int,
        help="agent-steps to train for, one per hunter per game step (default: "
        f"{PPOConfig.total_timesteps})",
    )
    parser.add_argument(
        "--num-envs", type=int, help=f"game copies played at once (default: {PPOConfig.num_envs})"
    )
    add_common_options(
        parser,
        settings="a PPOConfig field (listed below), e.g. --set learning_rate=1e-4; repeatable",
        config=True,
        game="the quick self-play preset's game, so that their agents can meet",
    )
    add_run_options(parser, "--out")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> tuple[PPOConfig, RunOptions]:
    """(the run's config, how it takes its file); a bad value exits with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    common = read_common_options(parser, args)
    layers = common.layers(
        out=args.out,
        prosocial=True if args.prosocial else None,
        total_timesteps=args.timesteps,
        num_envs=args.num_envs,
    )
    with usage_errors(parser):
        values = merge_layers({"env": quick_game()}, layers, _SCHEMA)  # --env changes its keys
        return PPOConfig(**values), read_run_options(args, common, "out")


def main(argv: Sequence[str] | None = None) -> None:
    config, run = parse_args(argv)
    threads.configure()
    start = time.perf_counter()
    with run_errors(PROG):
        path = train_ppo(config, run.resume, run.overwrite, fresh_file=run.fresh)
    print(f"PPO checkpoint: {path} ({time.perf_counter() - start:.1f} s)")
