"""Agents defined outside the package: ``module:factory`` specs and installed plug-ins (entry
points), through the Python API, tom-arena and staghunt-demo, and every way they can be broken."""

import sys
import textwrap

import numpy as np
import pytest

from tom_agents import make_agent, registered_agents
from tom_agents.arena import play
from tom_agents.arena.cli import build_parser as arena_parser
from tom_agents.arena.cli import main as arena_main
from tom_agents.demo import main as demo_main
from tom_agents.plugins import PLUGIN_GROUP

# A user's agent, as a user writes it: it hunts what it stands on, else moves at random.
AGENT_MODULE = textwrap.dedent(
    """
    import numpy as np

    class Hunter:
        def __init__(self, env_config, seed=None):
            self.rng = np.random.default_rng(seed)
            self.episodes = 0

        def reset(self, agent_id):
            self.agent_id = agent_id

        def act(self, observation, info):
            mask = observation["action_mask"]
            for hunt in (5, 6):
                if mask[hunt]:
                    return hunt
            return int(self.rng.choice(np.flatnonzero(mask)))

        def end_episode(self, outcome=None):
            self.episodes += 1

    def make_hunter(env_config, seed=None):
        return Hunter(env_config, seed)

    NOT_CALLABLE = 3

    def make_nothing(env_config, seed=None):
        return object()
    """
)
GAME = {"grid_size": (5, 5), "max_cycles": 10}


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """``user_agents.py`` in a fresh folder, that folder the current one (not on sys.path)."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "user_agents.py").write_text(AGENT_MODULE)
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    monkeypatch.delitem(sys.modules, "user_agents", raising=False)
    yield folder
    sys.modules.pop("user_agents", None)


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A package installed with two agent plug-ins, one working and one broken."""
    site = tmp_path / "site"
    dist = site / "user_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "plugin_agents.py").write_text(AGENT_MODULE)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: user-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{PLUGIN_GROUP}]\n"
        "plug_hunter = plugin_agents:make_hunter\n"
        "plug_broken = plugin_agents:no_such_factory\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "plugin_agents", raising=False)
    yield
    sys.modules.pop("plugin_agents", None)


def test_a_module_factory_spec_plays_through_the_python_api(user_module, monkeypatch):
    monkeypatch.syspath_prepend(str(user_module))  # in Python, sys.path decides
    agent = make_agent("user_agents:make_hunter", GAME, seed=0)
    assert type(agent).__name__ == "Hunter"
    lineup = ["user_agents:make_hunter", "nearest_stag", "random", "nearest_hare"]
    result = play(lineup, episodes=2, seeds=[0, 1], env_config=GAME, progress=False)
    assert result.rewards.shape == (2, 2, 4) and np.isfinite(result.rewards).all()


def test_tom_arena_finds_a_module_factory_in_the_current_folder(user_module, capsys):
    lineup = ["user_agents:make_hunter", "user_agents:make_hunter", "random", "nearest_stag"]
    arena_main(
        [*lineup, "--episodes", "2", "--matches", "2", "--env", "grid_size=[5,5]", "--no-progress"]
    )
    out = capsys.readouterr().out
    assert "| user_agents:make_hunter | 0,1 |" in out
    assert (user_module / "runs" / "arena" / "episodes.csv").exists()


def test_staghunt_demo_plays_a_module_factory(user_module, capsys):
    demo_main(["--lineup", "user_agents:make_hunter", "random", "--out", "demo.gif"])
    assert "GIF written to demo.gif" in capsys.readouterr().out
    assert (user_module / "demo.gif").stat().st_size > 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module:make", "no module named 'no_such_module'"),
        ("user_agents:missing", "user_agents has no attribute 'missing'"),
        ("user_agents:NOT_CALLABLE", "NOT_CALLABLE is not callable"),
        ("user_agents:make_nothing", "without reset, act, end_episode"),
        ("no_such_name", "unknown agent spec 'no_such_name'"),
    ],
)
def test_a_broken_spec_is_a_usage_error_saying_what_is_wrong(user_module, capsys, spec, message):
    with pytest.raises(SystemExit) as exit_info:
        arena_main([spec, "random", "--no-progress", "--env", "grid_size=[5,5]"])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        demo_main(["--lineup", spec, "random"])
    assert message in capsys.readouterr().err


def test_a_module_that_fails_to_import_is_named(user_module, monkeypatch):
    (user_module / "broken_agents.py").write_text("import no_such_dependency\n")
    monkeypatch.syspath_prepend(str(user_module))
    with pytest.raises(ValueError, match=r"importing broken_agents failed.*no_such_dependency"):
        play(["broken_agents:make", "random"], 1, [0], env_config=GAME, progress=False)


def test_an_installed_plugin_is_a_name_like_the_built_in_ones(installed, capsys):
    assert {"plug_hunter", "plug_broken", "hop"} <= set(registered_agents())
    assert "plugin_agents" not in sys.modules  # listed, not loaded
    assert type(make_agent("plug_hunter", GAME, seed=1)).__name__ == "Hunter"
    result = play(["plug_hunter", "random"], 2, [0], env_config=GAME, progress=False)
    assert result.lineup == ["plug_hunter", "random"]
    arena_main(["plug_hunter", "nearest_stag", "--matches", "1", "--episodes", "1"])
    assert "| plug_hunter | 0 |" in capsys.readouterr().out
    assert "plug_hunter" in arena_parser().format_help()


def test_a_broken_plugin_is_named_and_the_others_still_work(installed, capsys):
    with pytest.raises(ValueError, match=r"plug-in 'plug_broken' \(plugin_agents:no_such_factory"):
        make_agent("plug_broken", GAME)
    with pytest.raises(SystemExit):
        arena_main(["plug_broken", "random", "--no-progress"])
    err = capsys.readouterr().err
    assert "plug_broken" in err and "user-plugin 1.0" in err
    assert type(make_agent("plug_hunter", GAME)).__name__ == "Hunter"
    assert make_agent("random", GAME) is not None


def test_entry_points_are_discovered_through_importlib_metadata(monkeypatch):
    from importlib.metadata import EntryPoint

    found = [EntryPoint("fake_agent", "tom_agents.agents.scripted:RandomAgent", PLUGIN_GROUP)]
    monkeypatch.setattr(
        "importlib.metadata.entry_points",
        lambda group: found if group == PLUGIN_GROUP else [],
    )
    assert "fake_agent" in registered_agents()
    assert type(make_agent("fake_agent", GAME)).__name__ == "RandomAgent"
