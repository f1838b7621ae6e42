"""The ORIGINAL design of the Markov Stag Hunt, kept only as a speed reference.

``NaiveStagHunt`` is what ``staghunt_env`` is measured against in ``benchmarks.env_throughput``:
one Python object per game, lists and dicts, per-agent loops, and a deep copy of the state per
step. It plays exactly the same rules as the real engine (``benchmarks.reference.env_check``
proves it transition by transition), so the speed ratio compares designs, not games.
"""

from __future__ import annotations

import collections
import copy
from typing import Any

import numpy as np

from staghunt_env.rules import GameState

SHAPES = (  # the same small wall polyominoes as staghunt_env.config.BLOCK_SHAPES
    [[0, 0]],
    [[0, 0], [0, 1]],
    [[0, 0], [1, 0]],
    [[0, 0], [0, 1], [0, 2]],
    [[0, 0], [1, 0], [2, 0]],
    [[0, 0], [1, 0], [1, 1]],
    [[0, 0], [0, 1], [1, 0]],
    [[0, 0], [0, 1], [1, 1]],
    [[0, 1], [1, 0], [1, 1]],
)
MOVES = [[-1, 0], [1, 0], [0, -1], [0, 1]]  # UP, DOWN, LEFT, RIGHT as (row, col) offsets

Observations = dict[str, dict[str, np.ndarray]]
StepResult = tuple[
    Observations,
    dict[str, float],
    dict[str, bool],
    dict[str, bool],
    dict[str, dict[str, int]],
]


class NaiveStagHunt:
    """BASELINE ONLY, not part of the package: the ORIGINAL design of the game.

    Modelled on the original RLlib 1.x ``MultiAgentEnv`` class ``StagHunt``: one Python object
    per game, positions as lists of ``[row, col]`` lists, per-agent Python loops, reward /
    done dicts, an observation built with numpy per agent per call, and (``deepcopy=True``) a
    ``copy.deepcopy`` of the whole env state at every step, as the original planner
    deep-copied envs before expanding them. The rules are those of SPEC section 1, exactly as
    ``staghunt_env`` implements them (checked by
    :func:`benchmarks.reference.env_check.check_naive_against_real`). It speaks
    the PettingZoo parallel API (separate terminations and truncations) so that it can be
    compared with the real env output for output.
    """

    def __init__(
        self,
        num_players: int = 4,
        num_stags: int = 1,
        num_hares: int = 4,
        grid_size: tuple[int, int] = (8, 8),
        stag_reward: float = 10.0,
        hare_reward: float = 1.0,
        time_reward: float = 0.0,
        max_cycles: int = 35,
        max_block_components: int = 5,
        player_strength: tuple[float, ...] | None = None,
        prosocial: bool = False,
        end_after_first_hunt: int | None = None,
        seed: int | None = None,
        deepcopy: bool = True,
    ) -> None:
        self.num_players, self.num_stags, self.num_hares = num_players, num_stags, num_hares
        self.height, self.width = grid_size
        self.stag_reward, self.hare_reward, self.time_reward = (
            stag_reward,
            hare_reward,
            time_reward,
        )
        self.max_cycles = max_cycles
        self.max_block_components = max_block_components
        self.player_strength = list(player_strength or [1.0] * num_players)
        self.prosocial = prosocial
        self.end_after_first_hunt = end_after_first_hunt
        self.deepcopy = deepcopy
        self.possible_agents = [f"hunter_{i}" for i in range(num_players)]
        self.agent_index = {a: i for i, a in enumerate(self.possible_agents)}
        self.np_random = np.random.RandomState(seed)
        self.agents: list[str] = []
        self.state: dict[str, Any] = {}
        self.saved_state: dict[str, Any] | None = None

    # ------------------------------------------------------------------ reset

    def _connected(self, blocks: list[list[int]]) -> bool:
        """Whether the free cells form one region (BFS), as the original layout check did."""
        free = [
            (r, c) for r in range(self.height) for c in range(self.width) if [r, c] not in blocks
        ]
        if not free:
            return False
        seen = {free[0]}
        queue = collections.deque([free[0]])
        while queue:
            r, c = queue.popleft()
            for dr, dc in MOVES:
                nr, nc = r + dr, c + dc
                if (
                    0 <= nr < self.height
                    and 0 <= nc < self.width
                    and [nr, nc] not in blocks
                    and (nr, nc) not in seen
                ):
                    seen.add((nr, nc))
                    queue.append((nr, nc))
        return len(seen) == len(free)

    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[Observations, dict[str, dict[str, int]]]:
        """A random layout, placed piece by piece as the original did (not the engine's draw)."""
        if seed is not None:
            self.np_random = np.random.RandomState(seed)
        blocks: list[list[int]] = []
        for _ in range(self.max_block_components):
            for _attempt in range(20):
                shape = SHAPES[self.np_random.randint(len(SHAPES))]
                max_dr = max(cell[0] for cell in shape)
                max_dc = max(cell[1] for cell in shape)
                if max_dr >= self.height or max_dc >= self.width:
                    continue
                r0 = self.np_random.randint(self.height - max_dr)
                c0 = self.np_random.randint(self.width - max_dc)
                cells = [[r0 + dr, c0 + dc] for dr, dc in shape]
                if any(cell in blocks for cell in cells):
                    continue
                if self._connected(blocks + cells):
                    blocks = blocks + cells
                    break
        free = [
            [r, c] for r in range(self.height) for c in range(self.width) if [r, c] not in blocks
        ]
        n, s = self.num_players, self.num_stags
        picks = self.np_random.choice(len(free), n + s + self.num_hares, replace=False)
        cells = [list(free[k]) for k in picks]
        self.state = {
            "blocks": blocks,
            "players": cells[:n],
            "alive": [True] * n,
            "stags": cells[n : n + s],
            "stag_alive": [True] * s,
            "hares": cells[n + s :],
            "hare_alive": [True] * self.num_hares,
            "t": 0,
            "first_hunt": -1,
            "over": False,
        }
        self.agents = list(self.possible_agents)
        return {a: self.observe(self.agent_index[a]) for a in self.agents}, {
            a: {"t": 0} for a in self.agents
        }

    def load(self, game: GameState, agents: list[str]) -> dict[str, dict[str, np.ndarray]]:
        """Start from game 0 of a real engine state; return the live agents' observations.

        The naive reset draws its layouts its own way, so the check against the real env starts
        both from the real env's state instead of from the same seed.
        """
        self.state = {
            "blocks": [[int(r), int(c)] for r, c in np.argwhere(game.blocks[0])],
            "players": [[int(r), int(c)] for r, c in game.pos[0]],
            "alive": [bool(x) for x in game.alive[0]],
            "stags": [[int(r), int(c)] for r, c in game.stag_pos[0]],
            "stag_alive": [bool(x) for x in game.stag_alive[0]],
            "hares": [[int(r), int(c)] for r, c in game.hare_pos[0]],
            "hare_alive": [bool(x) for x in game.hare_alive[0]],
            "t": int(game.t[0]),
            "first_hunt": int(game.first_hunt[0]),
            "over": bool(game.over[0]),
        }
        self.agents = list(agents)
        return {a: self.observe(self.agent_index[a]) for a in self.agents}

    # ------------------------------------------------------------------ observation

    def observe(self, i: int) -> dict[str, np.ndarray]:
        """Agent ``i``'s egocentric grid and action mask, built cell by cell in numpy."""
        st, n = self.state, self.num_players
        grid = np.zeros((self.height, self.width, n + 3), dtype=np.int8)
        for k in range(n):
            j = (i + k) % n
            if st["alive"][j]:
                r, c = st["players"][j]
                grid[r, c, k] = 1
        for r, c in st["blocks"]:
            grid[r, c, n] = 1
        for k, (r, c) in enumerate(st["stags"]):
            if st["stag_alive"][k]:
                grid[r, c, n + 1] = 1
        for k, (r, c) in enumerate(st["hares"]):
            if st["hare_alive"][k]:
                grid[r, c, n + 2] = 1
        mask = np.zeros(7, dtype=np.int8)
        mask[4] = 1
        if st["alive"][i] and not st["over"]:
            r, c = st["players"][i]
            for a, (dr, dc) in enumerate(MOVES):
                nr, nc = r + dr, c + dc
                if 0 <= nr < self.height and 0 <= nc < self.width and [nr, nc] not in st["blocks"]:
                    mask[a] = 1
            for k, cell in enumerate(st["stags"]):
                if st["stag_alive"][k] and cell == [r, c]:
                    mask[5] = 1
            for k, cell in enumerate(st["hares"]):
                if st["hare_alive"][k] and cell == [r, c]:
                    mask[6] = 1
        return {"observation": grid, "action_mask": mask}

    # ------------------------------------------------------------------ step

    def step(self, actions: dict[str, int]) -> StepResult:
        """One joint step by the rules of SPEC section 1, in their numbered order."""
        if self.deepcopy:  # the planner's per-step copy of the env state
            self.saved_state = copy.deepcopy(self.state)
        st = self.state
        acting = list(self.agents)
        if not acting:
            return {}, {}, {}, {}, {}
        rewards = {a: 0.0 for a in acting}
        terminations = {a: False for a in acting}
        truncations = {a: False for a in acting}
        # 1. moves (illegal moves run as STAY)
        for a in acting:
            i, act = self.agent_index[a], int(actions[a])
            if act < 4:
                r, c = st["players"][i]
                nr, nc = r + MOVES[act][0], c + MOVES[act][1]
                if 0 <= nr < self.height and 0 <= nc < self.width and [nr, nc] not in st["blocks"]:
                    st["players"][i] = [nr, nc]
        caught = False
        # 2. stags: two or more HUNT_STAG on its cell catch it, split by strength
        for k, cell in enumerate(st["stags"]):
            if not st["stag_alive"][k]:
                continue
            group = [
                a
                for a in acting
                if int(actions[a]) == 5 and st["players"][self.agent_index[a]] == cell
            ]
            if len(group) >= 2:
                st["stag_alive"][k] = False
                caught = True
                total = sum(self.player_strength[self.agent_index[a]] for a in group)
                for a in group:
                    share = (
                        self.player_strength[self.agent_index[a]] / total
                        if total > 0
                        else 1.0 / len(group)
                    )
                    rewards[a] += self.stag_reward * share
                    terminations[a] = True
        # 3. hares: HUNT_HARE on its cell catches it, split equally
        for k, cell in enumerate(st["hares"]):
            if not st["hare_alive"][k]:
                continue
            group = [
                a
                for a in acting
                if int(actions[a]) == 6 and st["players"][self.agent_index[a]] == cell
            ]
            if group:
                st["hare_alive"][k] = False
                caught = True
                for a in group:
                    rewards[a] += self.hare_reward / len(group)
                    terminations[a] = True
        # 5./6. time reward; prosocial: everyone gets the mean of the agents live at the start
        for a in acting:
            rewards[a] += self.time_reward
        if self.prosocial:
            mean = sum(rewards.values()) / len(acting)
            for a in acting:
                rewards[a] = mean
        # 4. catchers leave
        for a in acting:
            if terminations[a]:
                st["alive"][self.agent_index[a]] = False
        remaining = [a for a in acting if not terminations[a]]
        st["t"] += 1
        if caught and st["first_hunt"] < 0:
            st["first_hunt"] = st["t"]
        # 7. the end
        stags_left = sum(st["stag_alive"])
        hares_left = sum(st["hare_alive"])
        catchable = (hares_left > 0 and len(remaining) >= 1) or (
            stags_left > 0 and len(remaining) >= 2
        )
        out_of_time = st["t"] >= self.max_cycles or (
            self.end_after_first_hunt is not None
            and 0 <= st["first_hunt"] <= st["t"] - self.end_after_first_hunt
        )
        if not remaining or not catchable or out_of_time:
            st["over"] = True
            for a in remaining:
                terminations[a] = not catchable
                truncations[a] = catchable
        observations = {a: self.observe(self.agent_index[a]) for a in acting}
        infos = {a: {"t": st["t"]} for a in acting}
        self.agents = [a for a in acting if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos
