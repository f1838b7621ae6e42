"""PPO checkpoints as data: the policy's state dict plus a description to rebuild it from.

Stable-Baselines3's own ``PPO.save``/``PPO.load`` cloudpickle the model's attributes, so opening
such a zip can run code. Here a checkpoint is a ``kind="ppo"`` file of
:mod:`tom_agents.checkpoints` holding::

    env_config         the StagHuntConfig trained on, as a dict ("prosocial" marks shaped rewards)
    ppo                PPO(...) keywords: learning_rate, n_steps, ..., policy_kwargs={"net_arch"}
    n_envs             vector-env slots (game copies x hunters): a resume must use as many
    observation_space  {"low": array, "high": array} of the flattened grid (a Box)
    action_space       {"n": number of actions} (a Discrete)
    num_timesteps      agent-steps trained so far
    n_updates          gradient updates so far (SB3's logging counter)
    policy             the policy's state dict (tensors)
    optimizer          the Adam optimizer's state dict, for an exact resume
    sb3_version        the Stable-Baselines3 that wrote it (for information)

:func:`read_checkpoint` rebuilds ``PPO("MlpPolicy", ...)`` from the keywords and loads the two
state dicts into it; nothing in the file is ever executed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import stable_baselines3
import torch
from gymnasium import spaces
from stable_baselines3 import PPO

from staghunt_env import StagHuntConfig

from .. import checkpoints
from ..checkpoints import CheckpointError
from ..devices import resolve_device

KIND = checkpoints.PPO
ENV_CONFIG_ATTR = "staghunt_env_config"  # the model attribute holding the training game (a dict)
PPO_KWARGS_ATTR = "tom_agents_ppo_kwargs"  # the model attribute holding its PPO(...) keywords
# The PPO(...) keywords a checkpoint may hold: numbers, flags and the layer widths only, so a
# file cannot name a class or a function for SB3 to build.
PPO_KEYWORDS = (
    "learning_rate",
    "n_steps",
    "batch_size",
    "n_epochs",
    "gamma",
    "gae_lambda",
    "clip_range",
    "clip_range_vf",
    "normalize_advantage",
    "ent_coef",
    "vf_coef",
    "max_grad_norm",
    "target_kl",
    "policy_kwargs",
)


def new_model(
    env: Any, env_config: StagHuntConfig, ppo_kwargs: Mapping[str, Any], **options: Any
) -> PPO:
    """``PPO("MlpPolicy", env, **ppo_kwargs, **options)``, remembering what a checkpoint records.

    ``ppo_kwargs`` must be complete (every name of ``PPO_KEYWORDS``), so that a checkpoint
    rebuilds the same model even if a later Stable-Baselines3 changes its defaults.
    """
    kwargs = _check_keywords(ppo_kwargs)
    model = PPO("MlpPolicy", env, **kwargs, **options)
    setattr(model, ENV_CONFIG_ATTR, env_config.to_dict())
    setattr(model, PPO_KWARGS_ATTR, kwargs)
    return model


def save_checkpoint(model: PPO, path: str | os.PathLike) -> Path:
    """Write ``model`` (made by :func:`new_model` or :func:`read_checkpoint`) atomically."""
    space = model.observation_space
    tree = {
        "env_config": getattr(model, ENV_CONFIG_ATTR),
        "ppo": getattr(model, PPO_KWARGS_ATTR),
        "n_envs": int(model.n_envs),
        "observation_space": {"low": np.asarray(space.low), "high": np.asarray(space.high)},
        "action_space": {"n": int(model.action_space.n)},
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(model._n_updates),
        "policy": model.policy.state_dict(),
        "optimizer": model.policy.optimizer.state_dict(),
        "sb3_version": stable_baselines3.__version__,
    }
    return checkpoints.save(path, KIND, tree)


def read_checkpoint(path: str | os.PathLike, device: str | torch.device = "auto") -> PPO:
    """The PPO model of the checkpoint at ``path``, in evaluation mode, on ``device``.

    Raises :class:`~tom_agents.checkpoints.CheckpointError` (a ValueError) naming the file for a
    missing, torn, foreign or old-format file, or one whose description does not fit SB3's PPO.
    Building the model does not move the caller's torch random generators.
    """
    _, tree = checkpoints.load(path, KIND)
    try:
        env_config = StagHuntConfig.make(**tree["env_config"]).to_dict()
        kwargs = _check_keywords(tree["ppo"])
        low, high = tree["observation_space"]["low"], tree["observation_space"]["high"]
        with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten below
            model = PPO(
                "MlpPolicy",
                None,
                _init_setup_model=False,
                device=resolve_device(device),
                **kwargs,
            )
            model.observation_space = spaces.Box(low, high, dtype=low.dtype)
            model.action_space = spaces.Discrete(int(tree["action_space"]["n"]))
            model.n_envs = int(tree["n_envs"])
            model._setup_model()
        model.policy.load_state_dict(tree["policy"])
        model.policy.optimizer.load_state_dict(tree["optimizer"])
        model.num_timesteps = int(tree["num_timesteps"])
        model._n_updates = int(tree["n_updates"])
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as e:
        raise CheckpointError(path, f"not a usable PPO checkpoint ({type(e).__name__}: {e})") from e
    setattr(model, ENV_CONFIG_ATTR, env_config)
    setattr(model, PPO_KWARGS_ATTR, kwargs)
    model.policy.set_training_mode(False)
    return model


def _check_keywords(ppo_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The PPO keywords, refusing missing, unknown and non-data ones."""
    missing = sorted(set(PPO_KEYWORDS) - set(ppo_kwargs))
    unknown = sorted(set(ppo_kwargs) - set(PPO_KEYWORDS))
    if missing or unknown:
        raise ValueError(f"PPO keywords: missing {missing}, unknown {unknown}")
    kwargs = dict(ppo_kwargs)
    policy_kwargs = kwargs["policy_kwargs"]
    if not isinstance(policy_kwargs, Mapping) or set(policy_kwargs) != {"net_arch"}:
        raise ValueError(f"PPO policy_kwargs: only net_arch is stored, got {policy_kwargs!r}")
    kwargs["policy_kwargs"] = {"net_arch": [int(w) for w in policy_kwargs["net_arch"]]}
    for name, value in kwargs.items():
        if name != "policy_kwargs" and not isinstance(value, (int, float, type(None))):
            raise ValueError(f"PPO keyword {name}: must be a number, got {value!r}")
    return kwargs
