"""The planning agents: HOP, direct-OM and plain MCTS are one agent with three opponent models.

Per decision: perceive the co-players' last actions and update the goal beliefs (the
:class:`~.seat.Seat`), sample co-player goals per tree from the beliefs, search
(:func:`~.stag_hunt_step.search_decisions`), average the root Q over the trees and act by
softmax(beta * Q). Across episodes: discounted goal counts give the next episode's prior, and the
learned opponent models train on hindsight-labelled trajectories (:mod:`~.learning`). That is
SPEC's method, the defaults; options change its parts (``greedy``, ``root_value``,
``leaf_value``, ``tree_value``, ``prior_pseudocount``, ``wanderer_prior``, ``wanderer_counts``,
``judge_catches``, ``unoffered_weight``, ``wanderer_join``, ``soft_goal_counts``,
``initial_goal_counts``), as the ``hop_plus`` variant does with some of them (:data:`HOP_PLUS`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from staghunt_env import GameState, StagHuntConfig
from staghunt_env.spec import HUNT_STAG, agent_index

from .. import checkpoints
from ..perception import check_observation
from ..search import SearchSettings
from .learning import train_opponent
from .networks import PlannerNetworks
from .options import (
    NETWORKLESS_MODELS,
    PlannerOptions,
    check_option_names,
    check_shared_options,
)
from .seat import Look, Seat, perceive_all
from .stag_hunt_step import search_decisions

CHECKPOINT_KIND = checkpoints.PLANNER

# the planner options of ``hop_plus``: HOP whose search counts what it finds, each option kept
# because its ablation shows it helps (benchmarks/results/hop_diagnosis.md): leaves valued by
# goal-directed rollouts under the trees' sampled co-player goals, every edge tried before the
# best is deepened, the decision greedy, and a pseudo-count in the inter-episode prior
# (benchmarks/results/paper/prior_ablation.md; ``root_value="mean"`` was tried too: no gain),
# and co-players modelled as scripted walkers to their goal's nearest prey, a sharper reading of
# their moves than the learned models give (benchmarks/results/paper/opponent_model.md), and
# co-players that caught nothing while moving at random in earlier episodes read as likely
# wanderers, no partners for the stag (benchmarks/results/paper/wanderer_counts.md; a fixed
# ``wanderer_prior`` was tried first: a loss, benchmarks/results/paper/wanderers.md). The budget
# stays the user's; the shipped hop_plus spends its 32 simulations on 4 trees of 8
# (benchmarks/results/paper/trees.md, ``HOP_PLUS_SEARCH`` in benchmarks/build_pretrained.py)
HOP_PLUS = {
    "opponent_model": "scripted",
    "greedy": True,
    "leaf_value": "rollout",
    "tree_value": "mean",
    "prior_pseudocount": 1.0,
    "wanderer_counts": True,
}


@dataclasses.dataclass
class Decision:
    """One prepared decision, waiting for its search."""

    state: GameState
    goals: np.ndarray  # (trees, N-1) a goal per co-player per tree
    seed: np.uint64
    mask: np.ndarray


class PlannerAgent:
    """MCTS against modelled co-players. ``opponent_model`` picks the agent:

    ``learned``/``scripted`` (goal-conditioned: HOP), ``goal_free`` (direct-OM), ``uniform`` (MCTS).
    Agents made by :meth:`follower` share these networks, each with its own seat and randomness.
    """

    def __init__(
        self,
        env_config: StagHuntConfig,
        seed: int | None = None,
        device: str | torch.device = "auto",
        checkpoint: str | os.PathLike | None = None,
        **options: Any,
    ) -> None:
        check_option_names(options, "for 'hop'/'direct_om'/'mcts'")
        self.config = env_config
        self.options = PlannerOptions(**options)
        self.rng = np.random.default_rng(seed)
        self.networks = PlannerNetworks(
            env_config, self.options, int(self.rng.integers(2**63)), device
        )
        self.seat = _seat(self.networks, self.options)
        self.opponent_losses: list[float] = []
        if checkpoint is not None:
            self.load(checkpoint)

    @classmethod
    def _sharing(
        cls, networks: PlannerNetworks, options: PlannerOptions, seed: int | None
    ) -> PlannerAgent:
        agent = cls.__new__(cls)
        agent.config = networks.config
        agent.options = options
        agent.rng = np.random.default_rng(seed)
        agent.networks = networks
        agent.seat = _seat(networks, options)
        agent.opponent_losses = []
        return agent

    def follower(self, seed: int | None, **changes: Any) -> PlannerAgent:
        """Another agent with its own seat and randomness, sharing these networks.

        Agents that share networks search their decisions in the same waves (:func:`act_batch`).
        ``changes`` replace planner options that do not shape the networks (e.g. the search
        budget).
        """
        check_option_names(changes)
        options = dataclasses.replace(self.options, **changes)
        check_shared_options(self.options, options)
        return self._sharing(self.networks, options, seed)

    def with_opponent_model(
        self, opponent_model: str, seed: int | None = None, **changes: Any
    ) -> PlannerAgent:
        """A new network owner with a copy of this policy-value net (its optimiser state and the
        seat's counts too) and an opponent model that has no networks of its own (``"scripted"``
        or ``"uniform"``): e.g. a trained hop's net against scripted co-players, as the shipped
        ``hop_plus`` plays. ``changes``: other planner options (``scripted_epsilon``, ...)."""
        if opponent_model not in NETWORKLESS_MODELS:
            raise ValueError(
                f"opponent_model={opponent_model!r} needs networks of its own, which a trained "
                f"agent's cannot provide; a trained agent can switch to {NETWORKLESS_MODELS}"
            )
        options = dataclasses.replace(self.options, opponent_model=opponent_model, **changes)
        agent = PlannerAgent(self.config, seed, self.device, **dataclasses.asdict(options))
        agent.networks.policy_value.load_state_dict(self.networks.policy_value.state_dict())
        agent.networks.optimizer.load_state_dict(self.networks.optimizer.state_dict())
        agent.seat.load_counts(self.seat.counts())
        return agent

    def to(self, device: str | torch.device) -> PlannerAgent:
        """Move the networks and their optimisers' state to ``device`` (e.g. after loading)."""
        self.networks.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return self.networks.device

    @property
    def learns_opponents(self) -> bool:
        return self.networks.learns_opponents

    # ------------------------------------------------------------------ episode interface

    def reset(self, agent_id: str) -> None:
        """Start an episode as ``agent_id``; what was learned about co-players is kept."""
        self.seat.start(agent_index(agent_id, self.config.num_players))

    def act(
        self,
        observation: Mapping[str, Any],
        info: Mapping[str, Any],
        joint_actions: Sequence[int] | None = None,
    ) -> int:
        """Choose an action; ``joint_actions`` (all players' previous actions) is optional."""
        return act_batch([self], [observation], [info], [joint_actions])[0]

    def prepare(self, observation, info, joint_actions=None) -> Decision | None:
        """Perceive and update beliefs; returns the decision to search (None: act at random)."""
        return prepare_all([self], [observation], [info], [joint_actions])[0]

    def _look(self, observation, info, joint_actions) -> tuple[Look, np.ndarray]:
        if self.seat.focal < 0:
            raise RuntimeError("call reset(agent_id) before act()")
        grid, mask = check_observation(self.config, observation)
        if "t" not in info:
            raise ValueError("info must carry the time step 't' (as the stag hunt env gives it)")
        return self.seat.look(grid, int(info["t"]), joint_actions), mask

    def _decide(self, state: GameState, mask: np.ndarray) -> Decision | None:
        """Sample the co-players' goals of each tree from the beliefs (None: no prey left)."""
        if not (state.stag_alive.any() or state.hare_alive.any()):
            return None
        probs = self.seat.tree_goal_probs(self.options.wanderer_model)
        u = self.rng.random((self.options.num_trees, self.seat.num_coplayers))
        goals = (u[..., None] >= probs.cumsum(-1)[None, :, :-1]).sum(-1)  # 0 stag, 1 hare, 2 wander
        seed = np.uint64(self.rng.integers(0, 2**63))
        return Decision(state=state, goals=goals, seed=seed, mask=mask)

    def finish(self, decision: Decision, q: np.ndarray, visits: np.ndarray) -> int:
        """Value the root actions (q, visits: (trees, 7)), act by softmax(beta * value), or
        greedily with ties broken at random."""
        legal = decision.mask > 0
        value = root_values(q, visits, self.options.root_value)
        best = value[legal].max()
        logits = np.where(legal, self.options.beta * (value - best), -np.inf)
        pi = np.exp(logits)
        pi /= pi.sum()
        if self.options.greedy:
            action = int(self.rng.choice(np.flatnonzero(legal & (value >= best))))
        else:
            action = int(self.rng.choice(len(pi), p=pi))
        self.seat.offered |= action == HUNT_STAG
        grid, t = self.seat.previous[:2]
        self.seat.history.append({"grid": grid, "t": t, "mask": decision.mask, "pi": pi})
        return action

    def act_at_random(self, mask: np.ndarray) -> int:
        return int(self.rng.choice(np.flatnonzero(mask)))

    def end_episode(self, outcome: Mapping[str, int] | None = None) -> None:
        """Close the episode. ``outcome`` (agent name -> what it caught, a ``Catch`` code), as the
        runner knows it, tells who caught what after this agent last looked; co-players' realised
        goals then update the counts and, for learned models, the training buffers."""
        if outcome is not None and self.seat.previous is not None:
            self.seat.record_outcome(outcome)
        self.seat.close(self.options.belief_discount)
        if self.learns_opponents and self.options.learn_opponents:
            for k, buffer in enumerate(self.seat.opponent_buffers):
                if len(buffer) >= self.options.opponent_buffer_size:
                    self.opponent_losses.append(self.train_opponent(k, buffer))
                    self.seat.opponent_buffers[k] = []

    def train_opponent(self, k: int, buffer: Sequence[tuple]) -> float:
        """Train co-player seat k's model on goal-labelled steps; returns the mean loss."""
        return train_opponent(self.networks, k, buffer, self.options, self.rng)

    def belief_hits(self) -> tuple[float, int]:
        return self.seat.belief_hits()

    def belief_report(self) -> dict[str, tuple[float, float]]:
        """Per co-player id: (prior P(stag) at the episode's start, P(stag) at its last decision).

        Empty for agents that do not model goals (direct-OM, MCTS).
        """
        return self.seat.belief_report() if self.networks.goal_conditioned else {}

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self, moments: bool = True) -> dict[str, Any]:
        """The networks, options, game and the seat's counts, as tensors and plain data
        (``moments=False``: without the optimisers' running moments)."""
        return {
            "env_config": self.config.to_dict(),
            "options": dataclasses.asdict(self.options),
            "networks": self.networks.state_dict(moments),
            **self.seat.counts(),
        }

    def save(self, path: str | os.PathLike, optimizers: bool = True) -> None:
        """Write a checkpoint atomically, in the safe format (:mod:`tom_agents.checkpoints`).

        ``optimizers=False`` leaves out the optimisers' moments (a third of the size of an agent
        that is to play, not to train on: loading it starts them afresh)."""
        checkpoints.save(path, CHECKPOINT_KIND, self.state_dict(moments=optimizers))

    def load(self, path: str | os.PathLike) -> None:
        """Load a planner checkpoint of this game and network shape, or raise a ValueError."""
        _, data = checkpoints.load(path, CHECKPOINT_KIND)
        self.load_state_dict(data, f"checkpoint {path}")

    def load_state_dict(self, data: Mapping[str, Any], source: str = "the state") -> None:
        from staghunt_env.config import check_same_config

        check_same_config(self.config, data["env_config"], f"{source} is for")
        theirs = PlannerOptions.from_dict(data["options"])
        check_shared_options(theirs, self.options, source, network_only=True)
        self.networks.load_state_dict(data["networks"])
        self.seat.load_counts(data)


def root_values(q: np.ndarray, visits: np.ndarray, kind: str = "q") -> np.ndarray:
    """(7,) the value of each root action from the trees' (trees, 7) Q and visits: "q" SPEC's
    Q = W / (1 + N) averaged over the trees; "mean" W / N pooled over them (-inf: unvisited)."""
    if kind == "q":
        return q.mean(0)
    n = visits.sum(0)
    return np.where(n > 0, (q * (1 + visits)).sum(0) / np.maximum(n, 1), -np.inf)


def _seat(networks: PlannerNetworks, options: PlannerOptions) -> Seat:
    return Seat(
        networks.config,
        networks.goal_conditioned,
        options.episode_prior,
        options.bayes_update,
        options.prior_pseudocount,
        options.soft_goal_counts,
        options.initial_goal_counts,
        options.wanderer_prior,
        options.wanderer_counts,
        options.judge_catches,
        options.unoffered_weight,
        options.wanderer_join,
    )


def prepare_all(
    agents: Sequence[PlannerAgent],
    observations: Sequence[Mapping[str, Any]],
    infos: Sequence[Mapping[str, Any]],
    joint_actions: Sequence[Sequence[int] | None],
) -> list[Decision | None]:
    """Many agents' :meth:`PlannerAgent.prepare` at once: perception makes one opponent-model
    call per network for all of them (:func:`~.seat.perceive_all`)."""
    looks = [a._look(o, i, j) for a, o, i, j in zip(agents, observations, infos, joint_actions)]
    states = perceive_all(
        [a.seat for a in agents],
        [look for look, _ in looks],
        [a.networks.opponents for a in agents],
    )
    return [a._decide(state, mask) for a, state, (_, mask) in zip(agents, states, looks)]


def act_batch(
    agents: Sequence[PlannerAgent],
    observations: Sequence[Mapping[str, Any]],
    infos: Sequence[Mapping[str, Any]],
    joint_actions: Sequence[Sequence[int] | None] | None = None,
) -> list[int]:
    """Decide for many planner agents at once, all searched in the same simulation waves.

    Agents with the same search settings share the waves; each wave calls every distinct
    network once, on the leaves of all the agents that use it.
    """
    joint_actions = joint_actions or [None] * len(agents)
    actions: list[int | None] = [None] * len(agents)
    groups: dict[tuple[SearchSettings, str], list[tuple[int, Decision]]] = {}
    prepared = prepare_all(agents, observations, infos, joint_actions)
    for i, (agent, obs, decision) in enumerate(zip(agents, observations, prepared)):
        if decision is None:
            actions[i] = agent.act_at_random(np.asarray(obs["action_mask"]))
        else:
            key = (agent.options.search, agent.options.leaf_value)
            groups.setdefault(key, []).append((i, decision))
    for (settings, leaf_value), members in groups.items():
        owners: dict[int, PlannerNetworks] = {}
        owner = []
        for i, _ in members:
            owners.setdefault(id(agents[i].networks), agents[i].networks)
            owner.append(list(owners).index(id(agents[i].networks)))
        decisions = [d for _, d in members]
        result = search_decisions(
            agents[members[0][0]].config,
            settings,
            GameState.concatenate([d.state for d in decisions]),
            np.array([agents[i].seat.focal for i, _ in members]),
            np.stack([d.goals for d in decisions]),
            np.array([d.seed for d in decisions], dtype=np.uint64),
            [n.evaluate_policy_value for n in owners.values()],
            [n.opponents for n in owners.values()],
            owner=np.array(owner),
            leaf_value=leaf_value,
        )
        for j, (i, decision) in enumerate(members):
            actions[i] = agents[i].finish(decision, result.q[j], result.visits[j])
    return actions


PlannerAgent.act_batch = staticmethod(act_batch)  # how the runner decides many planners at once
