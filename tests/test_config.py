"""Construction refuses bad configurations with a message naming the field; layouts are exact."""

import numpy as np
import pytest

import staghunt_env
from staghunt_env import StagHuntConfig
from staghunt_env.render import CELL

FACTORIES = [staghunt_env.parallel_env, staghunt_env.raw_env, staghunt_env.env]

LAYOUT = ["0.S.1", "..#..", "H...H"]


@pytest.mark.parametrize("factory", FACTORIES)
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"grid_size": (0, 5)}, "grid_size"),
        ({"grid_size": (5, 0)}, "grid_size"),
        ({"grid_size": (-3, 4)}, "grid_size"),
        ({"grid_size": 8}, "grid_size"),
        ({"num_players": 1}, "num_players"),
        ({"num_players": 0}, "num_players"),
        ({"num_players": 11}, "num_players"),
        # more entities than free cells, with and without room reserved for walls
        (
            {
                "grid_size": (2, 2),
                "num_players": 4,
                "num_hares": 1,
                "num_stags": 0,
                "max_block_components": 0,
            },
            "grid_size",
        ),
        ({"grid_size": (2, 2), "num_players": 4, "num_hares": 1, "num_stags": 0}, "grid_size"),
        ({"grid_size": (4, 4), "num_players": 4, "num_hares": 4}, "grid_size"),
        ({"num_stags": -1}, "num_stags"),
        ({"num_hares": -1}, "num_hares"),
        ({"num_stags": 0, "num_hares": 0}, "num_hares"),
        ({"max_block_components": -1}, "max_block_components"),
        ({"max_cycles": 0}, "max_cycles"),
        ({"end_after_first_hunt": -1}, "end_after_first_hunt"),
        ({"player_strength": (1.0, 1.0)}, "player_strength"),
        ({"num_players": 2, "player_strength": (1, 1, 1)}, "player_strength"),
        ({"player_strength": (1, 1, 1, -2)}, "player_strength"),
        ({"render_mode": "video"}, "render_mode"),
        ({"render_mode": "rgb"}, "render_mode"),
    ],
)
def test_bad_values_are_refused_naming_the_field(factory, kwargs, field):
    with pytest.raises(ValueError, match=field):
        factory(**kwargs)


def test_the_free_cell_message_counts_the_entities():
    with pytest.raises(ValueError, match=r"2x2 .*too few for 5 entities"):
        StagHuntConfig.make(
            grid_size=(2, 2), num_players=4, num_hares=1, num_stags=0, max_block_components=0
        )
    # exactly enough room is fine
    tight = {
        "grid_size": (2, 2),
        "num_players": 3,
        "num_hares": 1,
        "num_stags": 0,
        "max_block_components": 0,
    }
    env = staghunt_env.parallel_env(**tight)
    for seed in range(5):
        env.reset(seed=seed)
        cells = {tuple(p) for p in env.game_state.pos[0]} | {tuple(env.game_state.hare_pos[0, 0])}
        assert len(cells) == 4, "distinct cells for every entity"


@pytest.mark.parametrize("factory", FACTORIES)
def test_unknown_keywords_are_a_type_error(factory):
    with pytest.raises(TypeError, match="colour"):
        factory(colour="red")
    with pytest.raises(TypeError, match="num_player"):
        factory(num_player=3)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (["0.S.1", "..X..", "H...H"], r"unknown character 'X' at row 1, col 2"),
        ("0.S.1\n.....\nH.0.H", r"player 0 appears twice"),
        (["0.S.2", ".....", "H...H"], r"numbered 0\.\.N-1, got \[0, 2\]"),
        (["1.S.2", ".....", "H...H"], r"numbered 0\.\.N-1, got \[1, 2\]"),
        (["0.S.1", "....", "H...H"], r"rows have different lengths \[5, 4, 5\]"),
        ("0.S.1\n..#...\nH...H", r"rows have different lengths"),
        ("", r"the map is empty"),
        ([], r"the map is empty"),
        (["0.S.H", "....."], r"num_players"),  # one hunter
        (["0...1", "..#.."], r"prey"),  # nothing to catch
    ],
)
def test_bad_layouts_are_refused(layout, message):
    with pytest.raises(ValueError, match=message):
        staghunt_env.parallel_env(layout=layout)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"num_players": 4}, "num_players"),
        ({"num_stags": 2}, "num_stags"),
        ({"num_hares": 4}, "num_hares"),
        ({"grid_size": (5, 3)}, "grid_size"),
        ({"grid_size": (8, 8)}, "grid_size"),
    ],
)
def test_counts_that_contradict_the_layout_are_refused(kwargs, field):
    with pytest.raises(ValueError, match=rf"{field}=.*conflicts with the layout"):
        staghunt_env.parallel_env(layout=LAYOUT, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_players": 2},
        {"num_players": 2, "num_stags": 1, "num_hares": 2, "grid_size": (3, 5)},
        {"grid_size": [3, 5]},
        {"num_players": None},
    ],
)
def test_counts_that_match_the_layout_or_are_omitted_work(kwargs):
    env = staghunt_env.parallel_env(layout=LAYOUT, **kwargs)
    config = env.config
    assert (config.num_players, config.num_stags, config.num_hares) == (2, 1, 2)
    assert config.grid_size == (3, 5)
    assert env.possible_agents == ["hunter_0", "hunter_1"]
    observations, _ = env.reset(seed=0)
    assert observations["hunter_0"]["observation"].shape == (3, 5, 5)


LAYOUTS = [
    LAYOUT,
    "0.S.1\n..#..\nH...H",
    [
        "0..#....",
        "..S#..H.",
        "1.......",
        "...##...",
        "H......2",
        "....H...",
        ".#....3.",
        ".#..H...",
    ],
    ["#2#", "1S0", "#H#"],
    ["9876543210", "SSSHHHH..."],
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_reset_reproduces_the_layout_exactly(layout):
    text = layout.strip() if isinstance(layout, str) else "\n".join(layout)
    rows = text.splitlines()
    env = staghunt_env.parallel_env(layout=layout, render_mode="ansi", max_cycles=5)
    rgb = staghunt_env.parallel_env(layout=layout, render_mode="rgb_array", max_cycles=5)
    rng = np.random.default_rng(0)
    for seed in (0, 1, None, 12345, None):
        for e in (env, rgb):
            observations, _ = e.reset(seed=seed)
        assert env.render() == text
        np.testing.assert_array_equal(env.state(), rgb.state())
        picture = rgb.render()
        assert picture.dtype == np.uint8
        assert picture.shape == (len(rows) * CELL, len(rows[0]) * CELL, 3)
        while env.agents:  # play the episode so the next reset has something to undo
            actions = {
                a: int(rng.choice(np.flatnonzero(observations[a]["action_mask"])))
                for a in env.agents
            }
            observations, *_ = env.step(actions)
            rgb.step(actions)
