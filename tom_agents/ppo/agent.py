"""A model-free baseline agent: a PPO policy trained by ``tom-train-ppo``, masked at play time.

The policy sees exactly what it saw in training, the agent's (H, W, N+3) grid flattened (C order);
training ran without action masks, so illegal actions are masked out here, before sampling.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO

from staghunt_env import StagHuntConfig
from staghunt_env.config import check_same_config
from staghunt_env.rules import NUM_ACTIONS

from ..checkpoints import CheckpointError
from ..devices import resolve_device
from ..perception import check_observation
from .checkpoint import ENV_CONFIG_ATTR, read_checkpoint

# (absolute path, device) -> ((mtime_ns, size) of the file when read, model): one model per file
_MODELS: dict[tuple[str, str], tuple[tuple[int, int], PPO]] = {}


def stored_env_config(model: PPO) -> StagHuntConfig:
    """The game ``model`` was trained on (its checkpoint records it)."""
    return StagHuntConfig.make(**getattr(model, ENV_CONFIG_ATTR))


def check_env_config(model: PPO, env_config: StagHuntConfig, path: str | os.PathLike) -> None:
    """Refuse a model trained for another game. ``prosocial`` may differ: it shapes the rewards
    of training, not what the policy sees, so a prosocial policy plays the selfish game too."""
    theirs = stored_env_config(model).to_dict()
    check_same_config(env_config, theirs, f"checkpoint {path} is for", ignore=("prosocial",))


def checkpoint_env_config(path: str | os.PathLike) -> StagHuntConfig:
    """The game a PPO checkpoint plays: the one it was trained on, with selfish rewards."""
    config = stored_env_config(shared_model(path, "cpu"))
    return dataclasses.replace(config, prosocial=False)


def shared_model(path: str | os.PathLike, device: str | torch.device = "auto") -> PPO:
    """The one model object for ``path`` on ``device``, read again only when the file changes."""
    device = resolve_device(device)
    key = (str(Path(path).resolve()), str(device))
    try:
        stat = os.stat(path)
    except OSError as e:
        raise CheckpointError(path, f"{type(e).__name__}: {e.strerror or e}") from e
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _MODELS.get(key)
    if cached is None or cached[0] != stamp:
        _MODELS[key] = (stamp, read_checkpoint(path, device))
    return _MODELS[key][1]


class PPOAgent:
    """A trained PPO policy in one seat, sampling legal actions from its own seeded generator.

    Agents made from the same file on the same device share one model, so that ``act_batch``
    decides for all of them with one forward pass.
    """

    def __init__(
        self,
        env_config: StagHuntConfig,
        seed: int | None = None,
        checkpoint: str | os.PathLike | None = None,
        device: str = "auto",
        deterministic: bool = False,
    ) -> None:
        if checkpoint is None:
            raise ValueError(
                "ppo needs a checkpoint: make_agent('ppo', checkpoint=PATH) or 'ppo:PATH'"
            )
        self.config = env_config
        self.model = shared_model(checkpoint, device)
        check_env_config(self.model, env_config, checkpoint)
        self.deterministic = deterministic
        self.rng = np.random.default_rng(seed)
        self.agent_id: str | None = None

    def reset(self, agent_id: str) -> None:
        self.agent_id = agent_id

    def act(self, observation: Mapping[str, Any], info: Mapping[str, Any] | None = None) -> int:
        return PPOAgent.act_batch([self], [observation], [info or {}])[0]

    def end_episode(self, final_state: Any = None) -> None:
        """Nothing to learn: training happens offline, in ``train_ppo``."""

    @staticmethod
    def act_batch(
        agents: Sequence[PPOAgent],
        observations: Sequence[Mapping[str, Any]],
        infos: Sequence[Mapping[str, Any]],
    ) -> list[int]:
        """One action per agent, with one policy forward per distinct model.

        Each agent draws from its own generator, so the result equals calling ``act`` on each.
        """
        if not len(agents) == len(observations) == len(infos):
            raise ValueError(
                f"act_batch: {len(agents)} agents, {len(observations)} observations and "
                f"{len(infos)} infos; pass one of each per agent"
            )
        inputs, masks = [], []
        groups: dict[int, list[int]] = {}
        for i, (agent, observation) in enumerate(zip(agents, observations)):
            if agent.agent_id is None:
                raise RuntimeError("call reset(agent_id) before act()")
            grid, mask = check_observation(agent.config, observation)
            if not mask.any():
                raise ValueError("action_mask allows no action")
            inputs.append(grid.reshape(-1))
            masks.append(mask.astype(bool))
            groups.setdefault(id(agent.model), []).append(i)
        logits = np.empty((len(agents), NUM_ACTIONS))
        for members in groups.values():
            policy = agents[members[0]].model.policy
            batch, _ = policy.obs_to_tensor(np.stack([inputs[i] for i in members]))
            with torch.inference_mode():
                out = policy.get_distribution(batch).distribution.logits
            logits[members] = out.double().cpu().numpy()
        return [agent._choose(row, mask) for agent, row, mask in zip(agents, logits, masks)]

    def _choose(self, logits: np.ndarray, legal: np.ndarray) -> int:
        masked = np.where(legal, logits, -np.inf)
        if self.deterministic:
            return int(np.argmax(masked))
        p = np.exp(masked - masked.max())
        return int(self.rng.choice(len(p), p=p / p.sum()))
