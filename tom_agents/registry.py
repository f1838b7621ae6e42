"""Agents by name: ``make_agent("nearest_stag", env_config=...)``; users add their own with ``register_agent``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from staghunt_env import StagHuntConfig
from staghunt_env.config import config_from


class Agent(Protocol):
    """What every agent offers, inside any PettingZoo loop."""

    def reset(self, agent_id: str) -> None:
        """Start an episode as ``agent_id``; what was learned in earlier episodes is kept."""

    def act(self, observation: Mapping[str, Any], info: Mapping[str, Any]) -> int:
        """Choose an action from what the env gives this agent."""

    def end_episode(self, outcome: Mapping[str, int] | None = None) -> None:
        """The episode is over. ``outcome`` (agent name -> ``staghunt_env.Catch``: what each hunter
        caught), when the runner knows it, tells who caught what after this agent last looked."""


AgentFactory = Callable[..., Agent]
_REGISTRY: dict[str, AgentFactory] = {}


def register_agent(name: str, factory: AgentFactory) -> None:
    """Make ``factory(env_config=StagHuntConfig, seed=int | None, **options)`` available by ``name``."""
    if not callable(factory):
        raise TypeError(f"register_agent({name!r}, ...): the factory must be callable")
    _REGISTRY[name] = factory


def registered_agents() -> list[str]:
    return sorted(_REGISTRY)


def make_agent(
    name: str,
    env_config: StagHuntConfig | Mapping[str, Any] | None = None,
    seed: int | None = None,
    device: str = "auto",
    checkpoint: str | None = None,
    **options: Any,
) -> Agent:
    """Build a registered agent for games of ``env_config`` (a config or its keywords).

    ``device`` and ``checkpoint`` reach the factory only when set (scripted agents take neither).
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown agent {name!r}; registered agents: {registered_agents()}")
    if device != "auto":
        options["device"] = device
    if checkpoint is not None:
        options["checkpoint"] = checkpoint
    factory = _REGISTRY[name]
    try:  # check the options first, so that errors inside the factory are not disguised
        inspect.signature(factory).bind(env_config=None, seed=seed, **options)
    except TypeError as e:
        raise ValueError(
            f"agent {name!r} does not accept these options {sorted(options)}: {e}"
        ) from e
    return factory(env_config=config_from(env_config), seed=seed, **options)
