"""The planner variants of ``benchmarks/hop_diagnosis.py``: switches ``tom_agents`` has no
option for, added by subclassing (no inter-episode prior, no intra-episode Bayes update, leaves
valued by scripted rollouts, the decision greedy on the mean value), and the ``Variant`` that
names one combination of them with the planner's own options.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from staghunt_env import GameState, rules
from staghunt_env.observe import observe
from staghunt_env.spec import HUNT_HARE, HUNT_STAG, hare_channel, stag_channel
from tom_agents import checkpoints
from tom_agents.opponents import ScriptedOpponents
from tom_agents.planner import PlannerAgent
from tom_agents.planner.seat import Seat
from tom_agents.planner.stag_hunt_step import StagHuntModel
from tom_agents.search import SearchSettings, search


class DiagSeat(Seat):
    """A seat that may forget its goal counts after each episode (``keep_counts``) or ignore
    the intra-episode Bayes update (``bayes``): the belief stays the episode's prior, except
    for goals known for sure (a catch, written in place). Hooks only ``start``, ``close`` and
    the ``belief`` attribute, so it holds whatever way the seat computes its updates."""

    keep_counts, bayes, _free = True, True, True

    @property
    def belief(self) -> np.ndarray:
        return self._belief

    @belief.setter
    def belief(self, value: np.ndarray) -> None:
        if self.bayes or self._free:
            self._belief = value

    def start(self, focal: int) -> None:
        self._free = True
        super().start(focal)
        self._free = False

    def close(self, discount: float) -> None:
        super().close(discount)
        if not self.keep_counts:
            self.goal_counts[:] = 0.0


def rollout_values(config, states: GameState, focal, goals, gamma: float, rng) -> np.ndarray:
    """The focal's discounted return from each state when every player walks a scripted path:
    the focal to the nearest prey (hunting it there), co-players to the nearest prey of the
    goal their tree sampled. States are copied; the walk ends when the focal leaves or time runs out."""
    states, m, n = states.copy(), states.batch_size, config.num_players
    rows, seats = np.arange(m), (focal[:, None] + np.arange(1, n)) % n
    walker, value, discount = ScriptedOpponents(0.0), np.zeros(m), np.ones(m)
    while True:
        live = ~states.over & states.alive[rows, focal]
        if not live.any():
            return value
        obs, masks = observe(states)
        probs = walker.probs(obs, states.t, masks)  # (M, N, goal, 7), every player as "co-player"
        joint = np.zeros((m, n), dtype=np.int64)
        p = probs[rows[:, None], seats, goals]  # co-players: their tree's goal
        joint[rows[:, None], seats] = (p.cumsum(-1) < rng.random((m, n - 1, 1))).sum(-1)
        mine = obs[rows, focal].copy()  # the focal: nearest of either kind, as one target map
        stag, hare = mine[..., stag_channel(n)].copy(), mine[..., hare_channel(n)]
        mine[..., hare_channel(n)] |= stag
        mine[..., stag_channel(n)] = 0
        grid, m_focal = mine[:, None], masks[rows, focal][:, None].copy()
        m_focal[..., HUNT_HARE] = 1  # so the walker "hunts" on either prey's cell
        pf = walker.probs(grid, states.t, m_focal)[:, 0, 1]
        joint[rows, focal] = np.minimum((pf.cumsum(-1) < rng.random((m, 1))).sum(-1), 6)
        r, c = states.pos[rows, focal, 0], states.pos[rows, focal, 1]
        joint[rows, focal] = np.where(stag[rows, r, c] > 0, HUNT_STAG, joint[rows, focal])
        joint[rows, focal] = np.where(hare[rows, r, c] > 0, HUNT_HARE, joint[rows, focal])
        reward = rules.step(config, states, joint, inplace=True)[1][rows, focal]
        value += np.where(live, discount * reward, 0.0)
        discount *= gamma


class RolloutModel(StagHuntModel):
    """HOP's recurrent function with leaf values from :func:`rollout_values` (priors: the net's)."""

    def _evaluate(self, trees, nodes):
        prior, legal, value, terminal = super()._evaluate(trees, nodes)
        live = np.flatnonzero(~terminal)
        if live.size:
            states = self.states.select(trees[live] * self.capacity + nodes[live])
            rng = np.random.default_rng(int(self.seeds[trees[live[0]]]) + int(nodes[live[0]]))
            value[live] = rollout_values(
                self.config, states, self.focal[trees[live]], self.goals[trees[live]],
                self.gamma, rng,
            )  # fmt: skip
        return prior, legal, value, terminal


def run_search(agent, settings: SearchSettings, roots, focal, goals, seeds):
    """search_decisions, with the model class the agent's leaves ask for (per decision)."""
    cls = RolloutModel if agent.leaves == "rollout" else StagHuntModel
    model = cls(
        agent.config, settings, roots, focal, goals, seeds,
        [agent.networks.evaluate_policy_value], [agent.networks.opponents],
        np.zeros(roots.batch_size, dtype=np.int64),
    )  # fmt: skip
    model.gamma = settings.gamma
    return search(model.root(), model, settings, model.seeds).per_decision(settings.num_trees)


class DiagPlanner(PlannerAgent):
    """PlannerAgent whose decisions may use rollout leaves (``leaves``) and a :class:`DiagSeat`."""

    leaves, rule = "net", "spec"

    @staticmethod
    def act_batch(agents, observations, infos, joint_actions=None) -> list[int]:
        actions, groups = [0] * len(agents), {}
        for i, (agent, obs, info) in enumerate(zip(agents, observations, infos)):
            decision = agent.prepare(obs, info)
            if decision is None:
                actions[i] = agent.act_at_random(np.asarray(obs["action_mask"]))
            else:
                key = (id(agent.networks), agent.options.search, agent.leaves)
                groups.setdefault(key, []).append((i, decision))
        for members in groups.values():
            first, ds = agents[members[0][0]], [d for _, d in members]
            result = run_search(
                first, first.options.search, GameState.concatenate([d.state for d in ds]),
                np.array([agents[i].seat.focal for i, _ in members]),
                np.stack([d.goals for d in ds]), np.array([d.seed for d in ds], dtype=np.uint64),
            )  # fmt: skip
            for j, (i, d) in enumerate(members):
                actions[i] = agents[i].finish(d, result.q[j], result.visits[j])
        return actions

    def finish(self, decision, q, visits=None) -> int:
        """SPEC's softmax(beta Q) (``rule`` "spec"), or the greedy action by the mean value
        W / N pooled over the trees, ties broken at random ("mean_greedy")."""
        if self.rule == "spec":
            return super().finish(decision, q)
        value = mean_q(q, visits, decision.mask > 0)
        return int(self.rng.choice(np.flatnonzero(value >= value.max() - 1e-9)))


def mean_q(q: np.ndarray, visits: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """(..., trees, 7) Q = W / (1 + N) and N -> (..., 7) W / N over the trees (-inf: unvisited
    or illegal; all legal at 0 when none was visited)."""
    w, n = (q * (1 + visits)).sum(-2), visits.sum(-2)
    value = np.where(legal & (n > 0), w / np.maximum(n, 1), -np.inf)
    return np.where(legal & ~np.isfinite(value).any(-1, keepdims=True), 0.0, value)


@dataclasses.dataclass(frozen=True)
class Variant:
    label: str
    model: str = "scripted"  # scripted | learned | uniform (opponent model)
    net: str = "untrained"  # untrained | trained (policy-value net from --checkpoint)
    budget: tuple[int, int] = (2, 16)  # trees x simulations
    greedy: bool = False
    prior: bool = True
    intra: bool = True
    leaves: str = "net"  # net | rollout
    rule: str = "spec"  # spec (softmax(beta Q), or argmax Q with greedy) | mean_greedy
    c_puct: float = 1.0


def planners(config, v: Variant, seeds, checkpoint) -> list[DiagPlanner]:
    """One network owner per variant, a follower (own seat and randomness) per match."""
    opts = dict(opponent_model=v.model, num_trees=v.budget[0], num_simulations=v.budget[1])
    opts.update(c_puct=v.c_puct)
    trained = None
    if v.net == "trained" or v.model == "learned":  # read the weights only: options may drift
        _, state = checkpoints.load(checkpoint, (checkpoints.PLANNER, checkpoints.SELFPLAY))
        shape = state["config"]["planner"] if "config" in state else state["options"]
        trained = state["owners"][0]["networks"] if "owners" in state else state["networks"]
        opts.update(channels=tuple(shape["channels"]), hidden=shape["hidden"])
    owner = DiagPlanner(config, seed=0, device="cpu", learn_opponents=False, **opts)
    if v.net == "trained":
        owner.networks.policy_value.load_state_dict(trained["policy_value"])
    if v.model == "learned":
        for mine, theirs in zip(owner.networks.opponent_nets, trained["opponents"]):
            mine.load_state_dict(theirs)
    agents = []
    for s in seeds:
        agent = owner.follower(int(s) + 1000, greedy=v.greedy)
        agent.seat = type("Seat", (DiagSeat,), {"keep_counts": v.prior, "bayes": v.intra})(
            config, owner.networks.goal_conditioned
        )
        agent.leaves, agent.rule = v.leaves, v.rule
        agents.append(agent)
    return agents
