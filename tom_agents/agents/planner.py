"""The planning agents: HOP, direct-OM and plain MCTS are one class with three opponent models.

Per decision: perceive the co-players' last actions, update the goal beliefs (Bayes), sample
co-player goals per tree from the beliefs, search (``tom_agents.search``), average the root Q
over the trees and act by softmax(beta * Q). Across episodes: discounted goal counts give the
next episode's prior, and the learned opponent models train on hindsight-labelled trajectories.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from staghunt_env import GameState, StagHuntConfig
from staghunt_env.config import check_same_config
from staghunt_env.observe import observe

from .. import beliefs
from ..atomic import atomic_write
from ..devices import resolve_device
from ..nets import PolicyValueNet
from ..opponents import LearnedOpponents, ScriptedOpponents, UniformOpponents
from ..padding import padded_forward
from ..perception import check_observation, explain_transition, state_from_observation
from ..planner.options import NETWORK_OPTIONS, SHARED_OPTIONS, PlannerOptions
from ..search import SearchSettings, search

CHECKPOINT_FORMAT = "tom_agents.planner/1"


@dataclasses.dataclass
class _Decision:
    """One prepared decision, waiting for its search."""

    state: Any
    goals: np.ndarray
    seed: np.uint64
    mask: np.ndarray


class PlannerAgent:
    """MCTS against modelled co-players. ``opponent_model`` picks the agent:

    ``learned``/``scripted`` (goal-conditioned: HOP), ``goal_free`` (direct-OM), ``uniform`` (MCTS).
    """

    def __init__(
        self,
        env_config: StagHuntConfig,
        seed: int | None = None,
        device: str | torch.device = "auto",
        checkpoint: str | os.PathLike | None = None,
        **options: Any,
    ) -> None:
        self.config = env_config
        unknown = sorted(set(options) - {f.name for f in dataclasses.fields(PlannerOptions)})
        if unknown:
            raise ValueError(f"unknown planner option(s) {unknown} for 'hop'/'direct_om'/'mcts'")
        self.options = PlannerOptions(**options)
        self.device = resolve_device(device)
        self.rng = np.random.default_rng(seed)
        self.num_coplayers = env_config.num_players - 1
        opts = self.options
        # Network initialisation draws from torch's generator: seed it from this agent's seed,
        # inside fork_rng so that the global torch state is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.rng.integers(2**63)))
            self.policy_value = PolicyValueNet(env_config, opts.channels, opts.hidden)
            self.opponents = self._make_opponents()
        self.policy_value.to(self.device)
        self.optimizer = torch.optim.Adam(self.policy_value.parameters(), lr=opts.lr)
        self.goal_counts = np.zeros((self.num_coplayers, 2))
        self.opponent_buffers: list[list[tuple]] = [[] for _ in range(self.num_coplayers)]
        self.opponent_losses: list[float] = []
        if checkpoint is not None:
            self.load(checkpoint)
        self.agent_id: str | None = None

    def follower(self, seed: int | None, **changes: Any) -> PlannerAgent:
        """Another agent with its own beliefs, buffers and randomness, sharing these networks.

        Agents that share networks search their decisions in the same waves (:func:`act_many`).
        ``changes`` replace planner options that do not shape the networks (e.g. the search
        budget).
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(PlannerOptions)})
        if unknown:
            raise ValueError(f"unknown planner option(s) {unknown}")
        options = dataclasses.replace(self.options, **changes)
        fixed = [k for k in SHARED_OPTIONS if getattr(options, k) != getattr(self.options, k)]
        if fixed:
            raise ValueError(f"options {fixed} belong to the shared networks and cannot change")
        other = copy.copy(self)
        other.rng = np.random.default_rng(seed)
        other.goal_counts = np.zeros_like(self.goal_counts)
        other.opponent_buffers = [[] for _ in range(self.num_coplayers)]
        other.opponent_losses = []
        other.agent_id = None
        other.options = options
        return other

    def to(self, device: str | torch.device) -> PlannerAgent:
        """Move the networks and their optimisers' state to ``device`` (e.g. after loading)."""
        self.device = resolve_device(device)
        nets = [self.policy_value, *getattr(self.opponents, "nets", [])]
        optimizers = [self.optimizer, *getattr(self.opponents, "optimizers", [])]
        for net in nets:
            net.to(self.device)
        for optimizer in optimizers:
            for state in optimizer.state.values():
                for key, value in state.items():
                    if isinstance(value, torch.Tensor):
                        state[key] = value.to(self.device)
        if isinstance(self.opponents, LearnedOpponents):
            self.opponents.device = self.device
        return self

    def _make_opponents(self):
        opts = self.options
        if opts.opponent_model == "uniform":
            return UniformOpponents()
        if opts.opponent_model == "scripted":
            return ScriptedOpponents(opts.scripted_epsilon)
        return LearnedOpponents(
            self.config,
            goal_conditioned=opts.opponent_model == "learned",
            device=self.device,
            lr=opts.opponent_lr,
            channels=opts.channels,
            hidden=opts.hidden,
        )

    @property
    def learns_opponents(self) -> bool:
        """Whether the opponent models are networks that train (learned, goal_free)."""
        return isinstance(self.opponents, LearnedOpponents)

    @property
    def goal_conditioned(self) -> bool:
        return self.opponents.num_goals > 1

    # ------------------------------------------------------------------ episode interface

    def reset(self, agent_id: str) -> None:
        """Start an episode as ``agent_id``; the goal counts of earlier episodes are kept."""
        if not agent_id.startswith("hunter_") or not agent_id[7:].isdigit():
            raise ValueError(f"agent_id must be 'hunter_<index>', got {agent_id!r}")
        self.agent_id = agent_id
        self.focal = int(agent_id[7:])
        if self.focal >= self.config.num_players:
            raise ValueError(f"{agent_id} does not exist with {self.config.num_players} players")
        self.prior = beliefs.prior_from_counts(self.goal_counts)
        self.belief = self.prior.copy()
        self.realised = np.full(self.num_coplayers, -1)
        self.trajectories: list[list[tuple]] = [[] for _ in range(self.num_coplayers)]
        self.first_hunt = -1
        self._previous: tuple | None = None
        self.history: list[dict[str, Any]] = []  # (grid, t, mask, pi_MCTS) for the trainer
        self.belief_log: list[np.ndarray] = []  # the belief each decision planned with
        self.catch_step = np.full(self.num_coplayers, -1)

    def act(
        self,
        observation: Mapping[str, Any],
        info: Mapping[str, Any],
        joint_actions: Sequence[int] | None = None,
    ) -> int:
        """Choose an action; ``joint_actions`` (all players' previous actions) is optional."""
        decision = self.prepare(observation, info, joint_actions)
        if decision is None:
            return self._random_legal(check_observation(self.config, observation)[1])
        result = search(
            self.config,
            self.options.search,
            decision.state,
            np.array([self.focal]),
            decision.goals[None],
            np.array([decision.seed], dtype=np.uint64),
            self.evaluate_policy_value,
            self.opponents,
        )
        return self.finish(decision, result.q[0])

    def prepare(self, observation, info, joint_actions=None) -> _Decision | None:
        """Perceive and update beliefs; returns the decision to search (None: act at random)."""
        if self.agent_id is None:
            raise RuntimeError("call reset(agent_id) before act()")
        grid, mask = check_observation(self.config, observation)
        if "t" not in info:
            raise ValueError("info must carry the time step 't' (as the stag hunt env gives it)")
        t = int(info["t"])
        state = state_from_observation(self.config, grid, t, self.focal, self.first_hunt)
        obs, masks = observe(state)
        seats = (self.focal + np.arange(1, self.config.num_players)) % self.config.num_players
        views, view_masks = obs[0, seats], masks[0, seats]
        if self._previous is not None:
            true = None
            if joint_actions is not None:
                true = np.asarray(joint_actions)[seats]
            self._perceive(grid, true, t)
            state.first_hunt[0] = self.first_hunt
        self._previous = (grid.copy(), t, views, view_masks)
        self.belief_log.append(self.belief.copy())
        if not (state.stag_alive.any() or state.hare_alive.any()):
            return None
        n_trees = self.options.num_trees
        u = self.rng.random((n_trees, self.num_coplayers))
        goals = (u >= self.belief[None, :, 0]).astype(np.int64)  # 0 stag, 1 hare
        seed = np.uint64(self.rng.integers(0, 2**63))
        return _Decision(state=state, goals=goals, seed=seed, mask=mask)

    def finish(self, decision: _Decision, q: np.ndarray) -> int:
        """Average the trees' root Q, act by softmax(beta * Q) (argmax when greedy)."""
        legal = decision.mask > 0
        q_avg = q.mean(0)
        logits = np.where(legal, self.options.beta * (q_avg - q_avg[legal].max()), -np.inf)
        pi = np.exp(logits)
        pi /= pi.sum()
        if self.options.greedy:
            action = int(np.flatnonzero(legal)[np.argmax(q_avg[legal])])
        else:
            action = int(self.rng.choice(len(pi), p=pi))
        self.history.append(
            {"grid": self._previous[0], "t": self._previous[1], "mask": decision.mask, "pi": pi}
        )
        return action

    def end_episode(self, final_state: np.ndarray | None = None) -> None:
        """Close the episode: co-players' realised goals update the counts and the buffers.

        ``final_state`` (the env's global grid at the end) lets an agent that left early see
        which co-players caught something after it left.
        """
        if final_state is not None and self._previous is not None:
            self._perceive_final(np.asarray(final_state))
        self.goal_counts = beliefs.update_counts(
            self.goal_counts, self.realised, self.options.belief_discount
        )
        if self.learns_opponents and self.options.learn_opponents:
            for k in range(self.num_coplayers):
                if len(self.opponent_buffers[k]) >= self.options.opponent_buffer_size:
                    self.opponent_losses.append(self.train_opponent(k))
                    self.opponent_buffers[k] = []
        self._previous = None

    def belief_hits(self) -> tuple[float, int]:
        """(right, total): planning beliefs whose likelier goal was the one a co-player realised.

        Counted over the decisions of this episode before each co-player's catch; a tie (the
        uniform belief) counts as half right.
        """
        right, total = 0.0, 0
        for k in np.flatnonzero(self.realised >= 0):
            for b in self.belief_log[: self.catch_step[k]]:
                goal = self.realised[k]
                right += (
                    1.0
                    if b[k, goal] > b[k, 1 - goal]
                    else 0.5
                    if b[k, goal] == b[k, 1 - goal]
                    else 0.0
                )
                total += 1
        return right, total

    def belief_report(self) -> dict[str, tuple[float, float]]:
        """Per co-player id: (prior P(stag) at the episode's start, P(stag) at its last decision).

        Empty for agents that do not model goals (direct-OM, MCTS).
        """
        if not self.goal_conditioned:
            return {}
        n = self.config.num_players
        last = self.belief_log[-1] if self.belief_log else self.prior
        return {
            f"hunter_{(self.focal + 1 + k) % n}": (float(self.prior[k, 0]), float(last[k, 0]))
            for k in range(self.num_coplayers)
        }

    # ------------------------------------------------------------------ perception

    def _perceive(self, grid: np.ndarray, true_actions, t: int) -> None:
        prev_grid, prev_t, prev_views, prev_masks = self._previous
        explains, observed, caught = explain_transition(prev_grid, grid, true_actions)
        if self.goal_conditioned:
            probs = self.opponents.probs(prev_views[None], np.array([prev_t]), prev_masks[None])[0]
            likelihood = (probs * explains[:, None, :]).sum(-1)  # (K, G)
            likelihood[~observed] = 1.0
            self.belief = beliefs.bayes_update(self.belief, likelihood, self.prior)
        for k in np.flatnonzero(observed):
            self.trajectories[k].append((prev_views[k], prev_t, prev_masks[k], explains[k]))
        self._record_catches(caught)
        if (caught >= 0).any() and self.first_hunt < 0:
            self.first_hunt = t

    def _record_catches(self, caught: np.ndarray) -> None:
        for k in np.flatnonzero((caught >= 0) & (self.realised < 0)):
            self.realised[k] = caught[k]
            self.catch_step[k] = len(self.belief_log)
            goal = int(caught[k]) if self.goal_conditioned else 0
            self.opponent_buffers[k].extend((*step, goal) for step in self.trajectories[k])
            self.trajectories[k] = []
            if self.goal_conditioned:  # the goal is now known for sure
                self.belief[k] = np.eye(2)[caught[k]]

    def _perceive_final(self, final_state: np.ndarray) -> None:
        """Co-players gone from the final global grid caught prey that vanished meanwhile.

        Matched greedily by distance from where each was last seen: a hare goes to one
        co-player, a stag to any number; the prey on the focal agent's own last cell is its own
        catch, unless a co-player stood there too (and so could have shared it).
        """
        n = self.config.num_players
        order = [(self.focal + k) % n for k in range(n)] + [n, n + 1, n + 2]
        final = final_state[..., order].astype(bool)
        prev = self._previous[0].astype(bool)
        own = tuple(np.argwhere(prev[..., 0])[0]) if prev[..., 0].any() else None
        gone = [
            (goal, tuple(cell))
            for goal, channel in ((0, n + 1), (1, n + 2))
            for cell in np.argwhere(prev[..., channel] & ~final[..., channel])
        ]
        pairs = []
        for k in range(1, n):
            before = np.argwhere(prev[..., k])
            if len(before) == 0 or final[..., k].any() or self.realised[k - 1] >= 0:
                continue
            start = tuple(before[0])
            for p, (_, cell) in enumerate(gone):
                if cell == own and start != own:
                    continue
                pairs.append((abs(cell[0] - start[0]) + abs(cell[1] - start[1]), k - 1, p))
        caught = np.full(self.num_coplayers, -1)
        taken: set[int] = set()
        for _, k, p in sorted(pairs):
            goal = gone[p][0]
            if caught[k] < 0 and (goal == 0 or p not in taken):
                caught[k] = goal
                taken.add(p)
        self._record_catches(caught)

    # ------------------------------------------------------------------ networks

    @torch.inference_mode()
    def evaluate_policy_value(self, grids: np.ndarray, t: np.ndarray, masks: np.ndarray):
        """(priors (M, 7), values (M,)) from the policy-value net, for the search."""
        log_pi, v = padded_forward(
            self.policy_value,
            torch.from_numpy(np.ascontiguousarray(grids)).to(self.device),
            torch.from_numpy(np.asarray(t)).to(self.device),
            torch.from_numpy(np.ascontiguousarray(masks)).to(self.device),
        )
        return log_pi.exp().double().cpu().numpy(), v.double().cpu().numpy()

    def train_opponent(self, k: int) -> float:
        """Cross-entropy of the buffered, goal-labelled steps of co-player seat k; returns the mean loss."""
        buffer = self.opponent_buffers[k]
        views, t, masks, explains, goals = stack_opponent_steps(buffer, self.device)
        net, optimizer = self.opponents.nets[k], self.opponents.optimizers[k]
        losses = []
        for _ in range(self.options.opponent_epochs):
            order = torch.from_numpy(self.rng.permutation(len(buffer))).to(self.device)
            for start in range(0, len(buffer), self.options.opponent_minibatch):
                idx = order[start : start + self.options.opponent_minibatch]
                loss = opponent_loss(net(views[idx], t[idx], masks[idx]), goals[idx], explains[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        return float(np.mean(losses))

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        opponents = getattr(self.opponents, "nets", [])
        return {
            "format": CHECKPOINT_FORMAT,
            "env_config": self.config.to_dict(),
            "options": dataclasses.asdict(self.options),
            "policy_value": self.policy_value.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "opponents": [net.state_dict() for net in opponents],
            "opponent_optimizers": [
                o.state_dict() for o in getattr(self.opponents, "optimizers", [])
            ],
            "goal_counts": self.goal_counts.copy(),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write a checkpoint atomically (temporary file, then rename)."""
        atomic_write(path, lambda f: torch.save(self.state_dict(), f))

    def load(self, path: str | os.PathLike) -> None:
        """Load a checkpoint of this agent kind and configuration, or raise a ValueError naming why."""
        try:
            data = torch.load(os.fspath(path), map_location=self.device, weights_only=False)
        except Exception as e:  # torch raises many kinds of error for a corrupt file
            raise ValueError(f"cannot read checkpoint {path}: {e}") from e
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{path} is not a planner-agent checkpoint")
        check_same_config(self.config, data["env_config"], f"checkpoint {path} is for")
        theirs = data["options"]
        for key in NETWORK_OPTIONS:
            if tuple(np.atleast_1d(theirs[key])) != tuple(
                np.atleast_1d(getattr(self.options, key))
            ):
                raise ValueError(
                    f"checkpoint {path} has {key}={theirs[key]!r}, this agent {getattr(self.options, key)!r}"
                )
        self.policy_value.load_state_dict(data["policy_value"])
        self.optimizer.load_state_dict(data["optimizer"])
        for net, state in zip(getattr(self.opponents, "nets", []), data["opponents"]):
            net.load_state_dict(state)
        for optimizer, state in zip(
            getattr(self.opponents, "optimizers", []), data["opponent_optimizers"]
        ):
            optimizer.load_state_dict(state)
        self.goal_counts = np.asarray(data["goal_counts"], dtype=np.float64)

    def _random_legal(self, mask: np.ndarray) -> int:
        return int(self.rng.choice(np.flatnonzero(mask)))


def stack_opponent_steps(buffer: Sequence[tuple], device: torch.device) -> tuple[torch.Tensor, ...]:
    """A buffer of (view, t, mask, explains, goal) steps as five tensors on ``device``."""
    columns = zip(*buffer)
    return tuple(torch.from_numpy(np.stack(c)).to(device) for c in columns)


def select_goal(log_probs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
    """Rows of (M, G, 7) log-probabilities under each row's goal (goal 0 when G = 1)."""
    rows = torch.arange(len(goals), device=log_probs.device)
    return log_probs[rows, goals.clamp(max=log_probs.shape[1] - 1)]


def opponent_loss(
    log_probs: torch.Tensor, goals: torch.Tensor, explains: torch.Tensor
) -> torch.Tensor:
    """-log P(observed transition | goal): log of the summed probability of the explaining actions.

    log_probs (M, G, 7); goals (M,) the hindsight goal index (0 when G = 1); explains (M, 7) bool.
    """
    masked = select_goal(log_probs, goals).masked_fill(~explains, -torch.inf)
    return -torch.logsumexp(masked, dim=-1).mean()


def act_many(
    agents: Sequence[PlannerAgent],
    observations: Sequence[Mapping[str, Any]],
    infos: Sequence[Mapping[str, Any]],
) -> list[int]:
    """Decide for many planner agents at once, all searched in the same simulation waves.

    Agents with the same search settings share the waves; each wave calls every distinct
    network once, on the leaves of all the agents that use it.
    """
    actions: list[int | None] = [None] * len(agents)
    groups: dict[SearchSettings, list[tuple[int, _Decision]]] = {}
    for i, (agent, obs, info) in enumerate(zip(agents, observations, infos)):
        decision = agent.prepare(obs, info)
        if decision is None:
            actions[i] = agent._random_legal(np.asarray(obs["action_mask"]))
        else:
            groups.setdefault(agent.options.search, []).append((i, decision))
    for settings, members in groups.items():
        leads: dict[tuple[int, int], PlannerAgent] = {}
        owner = []
        for i, _ in members:
            key = (id(agents[i].policy_value), id(agents[i].opponents))
            leads.setdefault(key, agents[i])
            owner.append(list(leads).index(key))
        decisions = [d for _, d in members]
        states = GameState.concatenate([d.state for d in decisions])
        result = search(
            agents[members[0][0]].config,
            settings,
            states,
            np.array([agents[i].focal for i, _ in members]),
            np.stack([d.goals for d in decisions]),
            np.array([d.seed for d in decisions], dtype=np.uint64),
            [lead.evaluate_policy_value for lead in leads.values()],
            [lead.opponents for lead in leads.values()],
            owner=np.array(owner),
        )
        for j, (i, decision) in enumerate(members):
            actions[i] = agents[i].finish(decision, result.q[j])
    return actions


PlannerAgent.act_batch = staticmethod(act_many)  # how batched_play.act_all decides many at once
