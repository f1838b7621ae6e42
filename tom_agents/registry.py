"""Agents by name: ``make_agent("nearest_stag", env_config=...)``.

Users add their own with ``register_agent``, with an installed plug-in (an entry point in the
group ``staghunt_tom.agents``) or by naming a factory as ``module:factory``
(:mod:`tom_agents.plugins`); all three are made the same way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from staghunt_env import StagHuntConfig
from staghunt_env.config import config_from

from .plugins import check_agent, import_factory, installed_plugins, is_import_spec, load_plugin


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


class UnknownAgentError(ValueError):
    """No agent, plug-in or ``module:factory`` goes by that name."""


_REGISTRY: dict[str, AgentFactory] = {}
_PLUGINS: dict[tuple[str, str], AgentFactory] = {}  # loaded plug-ins, by (name, module:factory)


def register_agent(name: str, factory: AgentFactory) -> None:
    """Make ``factory(env_config=StagHuntConfig, seed=int | None, **options)`` available by ``name``."""
    if not callable(factory):
        raise TypeError(f"register_agent({name!r}, ...): the factory must be callable")
    _REGISTRY[name] = factory


def registered_agents() -> list[str]:
    """Every agent name: the registered ones and those of installed plug-ins (not loaded yet)."""
    return sorted({*_REGISTRY, *installed_plugins()})


def agent_factory(name: str) -> AgentFactory:
    """The factory of a registered name, an installed plug-in (loaded now, once) or a
    ``module:factory`` spec; a ValueError names what is unknown or broken."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if is_import_spec(name):
        return import_factory(name)
    plugin = installed_plugins().get(name)
    if plugin is None:
        raise UnknownAgentError(
            f"unknown agent {name!r}; registered agents: {registered_agents()}, or module:factory"
        )
    key = (plugin.name, plugin.value)
    if key not in _PLUGINS:
        _PLUGINS[key] = load_plugin(plugin)
    return _PLUGINS[key]


def make_agent(
    name: str,
    env_config: StagHuntConfig | Mapping[str, Any] | None = None,
    seed: int | None = None,
    device: str = "auto",
    checkpoint: str | None = None,
    pretrained: bool = False,
    **options: Any,
) -> Agent:
    """Build an agent for games of ``env_config`` (a config or its keywords).

    ``name``: a registered name, an installed plug-in's name or ``module:factory``.
    ``device`` and ``checkpoint`` reach the factory only when set (scripted agents take neither).
    ``pretrained``: the trained agent shipped with the package (:mod:`tom_agents.pretrained`),
    for the game it was trained on only; ``options`` then change how it plays.
    """
    if pretrained:
        from .loading import load_agent
        from .pretrained import checkpoint_for, options_for

        if checkpoint is not None:
            raise ValueError("pass pretrained=True or a checkpoint, not both")
        path = checkpoint_for(name, config_from(env_config))
        options = {**options_for(name), **options}
        return check_agent(load_agent(path, seed=seed, device=device, **options), name)
    factory = agent_factory(name)
    if device != "auto":
        options["device"] = device
    if checkpoint is not None:
        options["checkpoint"] = checkpoint
    try:  # check the options first, so that errors inside the factory are not disguised
        inspect.signature(factory).bind(env_config=None, seed=seed, **options)
    except TypeError as e:
        raise ValueError(
            f"agent {name!r} does not accept these options {sorted(options)}: {e}"
        ) from e
    return check_agent(factory(env_config=config_from(env_config), seed=seed, **options), name)
