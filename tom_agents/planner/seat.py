"""What one planner knows as one player: its co-players' goals, across and within episodes.

Across episodes, discounted goal counts give the next episode's prior. Within an episode, each
observation is compared with the previous one: the co-players' moves are read off
(:mod:`~tom_agents.perception`) and the goal beliefs updated by Bayes under the opponent model.
At the episode's end the runner says who caught what, which labels the co-players' trajectories
with their realised goals for opponent-model learning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from staghunt_env import GameState, StagHuntConfig
from staghunt_env.observe import observe
from staghunt_env.spec import NUM_GOALS, agent_name

from .. import beliefs
from ..opponents import OpponentModel
from ..perception import explain_transition, state_from_observation
from .kinds import Kinds
from .learning import OpponentStep


@dataclasses.dataclass
class Look:
    """One observation, read but not yet taken in: the state it shows, the co-players' views and
    masks in it, and (after the first step) ``explain_transition``'s evidence of their moves."""

    state: GameState
    grid: np.ndarray
    t: int
    views: np.ndarray
    masks: np.ndarray
    evidence: tuple[np.ndarray, np.ndarray, np.ndarray] | None


def perceive_all(
    seats: Sequence[Seat], looks: Sequence[Look], models: Sequence[OpponentModel]
) -> list[GameState]:
    """Take in many seats' observations with one ``probs`` call per opponent model (one forward
    per network for all the seats that share it, not one per seat)."""
    probs: list[np.ndarray | None] = [None] * len(seats)
    groups: dict[int, list[int]] = {}
    for i, (seat, look) in enumerate(zip(seats, looks)):
        if seat.needs_likelihoods(look):
            groups.setdefault(id(models[i]), []).append(i)
    for members in groups.values():
        views, t, masks = zip(*(seats[i].likelihood_inputs for i in members))
        out = models[members[0]].probs(np.stack(views), np.array(t), np.stack(masks))
        for row, i in enumerate(members):
            probs[i] = out[row]
    return [seat.take(look, p) for seat, look, p in zip(seats, looks, probs)]


class Seat:
    """Per-player state of a planner: beliefs, perception and the records learning needs."""

    def __init__(
        self,
        config: StagHuntConfig,
        goal_conditioned: bool,
        episode_prior: bool = True,
        bayes_update: bool = True,
        prior_pseudocount: float = 0.0,
        soft_goal_counts: bool = False,
        initial_goal_counts: Sequence[float] = (0.0, 0.0),
        wanderer_prior: float = 0.0,
        wanderer_counts: bool = False,
        judge_catches: bool = False,
        unoffered_weight: float = 1.0,
        wanderer_join: float = 0.0,
    ) -> None:
        self.config = config
        self.goal_conditioned = goal_conditioned
        self.episode_prior = episode_prior  # False: each episode starts from the uniform prior
        self.bayes_update = bayes_update  # False: beliefs move only when a goal is realised
        self.prior_pseudocount = prior_pseudocount  # added to every goal's count for the prior
        self.soft_goal_counts = soft_goal_counts  # no catch: the evidence counts, as fractions
        self.num_coplayers = config.num_players - 1
        # wanderers beside the walkers: a learned prior only where the Bayes update runs
        learn = wanderer_counts and goal_conditioned and bayes_update
        self.unoffered_weight = unoffered_weight  # an episode without a stag hunt teaches less
        self.kinds = Kinds(
            self.num_coplayers, wanderer_prior, learn, episode_prior, judge_catches, wanderer_join
        )
        self.goal_counts = np.tile(np.asarray(initial_goal_counts, float), (self.num_coplayers, 1))
        self.uniform = np.full((self.num_coplayers, NUM_GOALS), 1.0 / NUM_GOALS)
        self.opponent_buffers: list[list[OpponentStep]] = [[] for _ in range(self.num_coplayers)]
        self.focal = -1

    def start(self, focal: int) -> None:
        """A new episode as player ``focal``; the goal counts of earlier episodes are kept."""
        self.focal = focal
        counts = self.goal_counts if self.episode_prior else np.zeros_like(self.goal_counts)
        self.prior = beliefs.prior_from_counts(counts + self.prior_pseudocount)
        self.kinds.start(self.prior)
        self.belief = self.kinds.plan_belief if self.kinds.on else self.prior.copy()
        self.goal_evidence = self.uniform.copy()  # the belief a uniform prior would reach
        self.realised = np.full(self.num_coplayers, -1)
        self.catch_step = np.full(self.num_coplayers, -1)
        self.trajectories: list[list[tuple]] = [[] for _ in range(self.num_coplayers)]
        self.first_hunt = -1
        self.offered = False  # this player hunted the stag: co-players could join it there
        self.previous: tuple | None = None  # (grid, t, co-players' views, their masks)
        self.history: list[dict[str, Any]] = []  # (grid, t, mask, pi_MCTS) for the trainer
        self.belief_log: list[np.ndarray] = []  # the belief each decision planned with

    @property
    def coplayers(self) -> np.ndarray:
        """Player indices of co-player seats k = 0..N-2 (player focal + 1 + k, cyclically)."""
        n = self.config.num_players
        return (self.focal + np.arange(1, n)) % n

    def look(self, grid: np.ndarray, t: int, joint_actions: Sequence[int] | None = None) -> Look:
        """The first half of perceiving an observation: what it shows, nothing changed yet."""
        state = state_from_observation(self.config, grid, t, self.focal, self.first_hunt)
        obs, masks = observe(state)
        seats = self.coplayers
        evidence = None
        if self.previous is not None:
            true = None if joint_actions is None else np.asarray(joint_actions)[seats]
            evidence = explain_transition(self.previous[0], grid, true)
        return Look(state, grid, t, obs[0, seats], masks[0, seats], evidence)

    @property
    def likelihood_inputs(self) -> tuple[np.ndarray, int, np.ndarray]:
        """(views (K, ...), t, masks (K, 7)) of the previous step, where the opponent model's
        action probabilities weigh what the co-players were seen to do."""
        return self.previous[2], self.previous[1], self.previous[3]

    def tree_goal_probs(self, wanderer_model: str) -> np.ndarray:
        """(K, G) what a tree samples for each co-player: its goal, or with ``wanderer_model``
        "random" (where the kinds are on) also the wanderer (:data:`~.kinds.WANDER`)."""
        return self.kinds.kind if wanderer_model == "random" and self.kinds.on else self.belief

    def needs_likelihoods(self, look: Look) -> bool:
        return self.goal_conditioned and self.bayes_update and look.evidence is not None

    def take(self, look: Look, probs: np.ndarray | None = None) -> GameState:
        """The second half: update beliefs (``probs`` (K, G, 7): the opponent model at the
        previous step, when :meth:`needs_likelihoods`) and records; returns the game state."""
        if look.evidence is not None:
            explains, observed, caught = look.evidence
            if self.needs_likelihoods(look):
                likelihood = (probs * explains[:, None, :]).sum(-1)  # (K, G)
                likelihood[~observed] = 1.0
                if self.kinds.on:
                    self.kinds.update(likelihood, explains, self.likelihood_inputs[2], observed)
                    self.belief = self.kinds.plan_belief
                else:
                    self.belief = beliefs.bayes_update(self.belief, likelihood, self.prior)
                if self.soft_goal_counts:  # only soft counts read it
                    self.goal_evidence = beliefs.bayes_update(
                        self.goal_evidence, likelihood, self.uniform
                    )
            prev_views, prev_t, prev_masks = self.likelihood_inputs
            for k in np.flatnonzero(observed):
                self.trajectories[k].append((prev_views[k], prev_t, prev_masks[k], explains[k]))
            self._record_catches(caught)
            if (caught >= 0).any() and self.first_hunt < 0:
                self.first_hunt = look.t
            look.state.first_hunt[0] = self.first_hunt
        self.previous = (look.grid.copy(), look.t, look.views, look.masks)
        self.belief_log.append(self.belief.copy())
        return look.state

    def _record_catches(self, caught: np.ndarray) -> None:
        for k in np.flatnonzero((caught >= 0) & (self.realised < 0)):
            self.realised[k] = caught[k]
            self.catch_step[k] = len(self.belief_log)
            goal = int(caught[k]) if self.goal_conditioned else 0
            self.opponent_buffers[k].extend((*step, goal) for step in self.trajectories[k])
            self.trajectories[k] = []
            if self.goal_conditioned:  # the goal is now known for sure
                self.belief[k] = np.eye(NUM_GOALS)[caught[k]]
                self.kinds.realise(k, int(caught[k]))

    def record_outcome(self, outcome: Mapping[str, int]) -> None:
        """The episode's catches as the runner reports them (agent name -> Catch code): co-players
        that caught something after this player last looked get their goal realised."""
        names = [agent_name(int(i)) for i in self.coplayers]
        self._record_catches(np.array([int(outcome.get(name, -1)) for name in names]))

    def close(self, discount: float) -> None:
        """End the episode: the realised goals join the discounted counts (with
        ``soft_goal_counts``, the other co-players' evidence too, as fractions of one; with
        ``wanderer_counts``, the evidence that those wandered joins the wanderer counts, and with
        ``judge_catches`` a catch counts only as much as the moves before it were a walker's; an
        episode in which this player never hunted the stag adds ``unoffered_weight`` of it; one in
        which it did tells ``wanderer_join`` who came)."""
        weight = 1.0 if self.offered else self.unoffered_weight
        soft = weight * self.goal_evidence if self.soft_goal_counts else None
        weights = weight * self.kinds.catch_weights(self.realised)
        self.goal_counts = beliefs.update_counts(
            self.goal_counts, self.realised, discount, soft, weights
        )
        self.kinds.close(self.realised, discount, weight, self.offered)
        self.previous = None

    def belief_hits(self) -> tuple[float, int]:
        """(right, total): planning beliefs whose likelier goal was the one a co-player realised.

        Counted over the decisions of this episode before each co-player's catch; a tie (the
        uniform belief) counts as half right.
        """
        right, total = 0.0, 0
        for k in np.flatnonzero(self.realised >= 0):
            goal = self.realised[k]
            for b in self.belief_log[: self.catch_step[k]]:
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
        """Per co-player name: (P(stag) planned with at the episode's start, before any
        evidence; P(stag) at the last decision). With wanderers, a wanderer is no stag hunter
        (with ``wanderer_join``, one at its join rate)."""
        first = self.kinds.plan(self.kinds.start_kind) if self.kinds.on else self.prior
        last = self.belief_log[-1] if self.belief_log else first
        return {
            agent_name(int(i)): (float(first[k, 0]), float(last[k, 0]))
            for k, i in enumerate(self.coplayers)
        }

    # ------------------------------------------------------------------ exact resume

    def counts(self) -> dict[str, Any]:
        """What this seat carries from episode to episode: its goal and wanderer counts."""
        return {"goal_counts": self.goal_counts.copy(), **self.kinds.counts()}

    def load_counts(self, data: Mapping[str, Any]) -> None:
        """:meth:`counts` back (data saved before ``wanderer_counts`` has goal counts only)."""
        self.goal_counts = np.asarray(data["goal_counts"], dtype=np.float64)
        self.kinds.load_counts(data)

    _ARRAYS = ("prior", "belief", "goal_evidence", "realised", "catch_step")

    def state_dict(self) -> dict[str, Any]:
        """Everything this seat holds, as arrays and plain data."""
        state = {"focal": self.focal, **self.counts(), "buffers": columns_of(self.opponent_buffers)}
        if self.focal < 0:
            return state
        state.update({name: getattr(self, name) for name in self._ARRAYS})
        state.update(
            self.kinds.state_dict(),
            trajectories=columns_of(self.trajectories),
            first_hunt=self.first_hunt,
            offered=self.offered,
            previous=self.previous,
            history={k: _stack([h[k] for h in self.history]) for k in ("grid", "t", "mask", "pi")},
            belief_log=_stack(self.belief_log),
        )
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.focal = int(state["focal"])
        self.load_counts(state)
        self.opponent_buffers = rows_of(state["buffers"])
        if self.focal < 0:
            return
        for name in self._ARRAYS:
            if name not in state:
                raise KeyError(f"the seat's state lacks {name!r}")
            setattr(self, name, np.array(state[name]))
        self.kinds.load_state_dict(state, self.prior)
        self.trajectories = rows_of(state["trajectories"])
        self.first_hunt = int(state["first_hunt"])
        self.offered = bool(state.get("offered", False))  # saved before the option: none
        self.previous = None if state["previous"] is None else tuple(state["previous"])
        history = state["history"]
        self.history = [{k: history[k][i] for k in history} for i in range(len(history["t"]))]
        self.belief_log = list(state["belief_log"])


def _stack(items: Sequence[Any]) -> np.ndarray | list:
    return np.stack(items) if len(items) else []


def columns_of(lists: Sequence[Sequence[tuple]]) -> list[list[np.ndarray | list]]:
    """Per list, its tuples as stacked columns (few large arrays instead of many small ones)."""
    return [[_stack(column) for column in zip(*rows)] if rows else [] for rows in lists]


def rows_of(columns: Sequence[Sequence[np.ndarray]]) -> list[list[tuple]]:
    return [list(zip(*cols)) if len(cols) else [] for cols in columns]
