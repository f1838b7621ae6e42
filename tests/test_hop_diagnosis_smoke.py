"""Smoke test of ``benchmarks/hop_diagnosis.py``: its variants are public planners with options,
the pretrained parts it mixes are the shipped hop's, and a tiny table runs."""

import numpy as np
import torch

from benchmarks import hop_diagnosis as diag
from staghunt_env import StagHuntConfig
from tom_agents import make_agent
from tom_agents.planner import HOP_PLUS, PlannerAgent


def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_variants_are_planners_with_the_options():
    rows = diag.plus_rows("hop_plus", *diag.SU)
    config = StagHuntConfig.make(**diag.GAMES["2p 4x4 open"])
    (agent,) = rows["tree_value"].agents(config, [0])  # hop_plus without the mean tree value
    assert type(agent) is PlannerAgent
    o = agent.options
    assert o.tree_value == "spec" and (o.greedy, o.leaf_value) == (True, HOP_PLUS["leaf_value"])
    assert (o.num_trees, o.num_simulations, o.learn_opponents) == (2, 16, False)
    (full,) = rows["all"].agents(config, [0])
    assert all(getattr(full.options, key) == value for key, value in HOP_PLUS.items())


def test_mixtures_load_the_shipped_hop_parts():
    config = StagHuntConfig()
    hop = diag.network_owner(config, "learned", "pretrained").networks
    net_only = diag.network_owner(config, "scripted", "pretrained").networks
    om_only = diag.network_owner(config, "learned", "untrained").networks
    assert same(hop.policy_value, net_only.policy_value)
    assert not same(hop.policy_value, om_only.policy_value)
    assert all(same(a, b) for a, b in zip(hop.opponent_nets, om_only.opponent_nets))
    assert net_only.opponent_nets == [] and len(hop.opponent_nets) == 3


def test_a_tiny_table_runs():
    lines: list[str] = []
    base = diag.variant("hop")
    plus = diag.plus_rows("hop_plus", *diag.SU)
    rows = ["nearest_hare", base, plus["all"], plus["leaf_value"]]
    diag.table("t", "2p 4x4 open", rows, ["nearest_stag"], base, [0, 1], 2, lines)
    body = [line for line in lines if line.startswith("| ") and "focal" not in line]
    assert len(body) == 2 * len(rows)  # the reward table and the episodes-2..K table
    delta = body[3].split(" | ")[2]  # hop_plus ‡ without rollouts: Δ to hop_plus, a number
    assert np.isfinite(float(delta.split(" ")[0]))


def test_the_shipped_row_is_the_shipped_hop_plus():
    config = StagHuntConfig()
    first, *ablations = diag.shipped_rows()
    (agent,) = first.agents(config, [0])
    shipped = make_agent("hop_plus", config, seed=0, device="cpu", pretrained=True)
    names = {*HOP_PLUS, "num_trees", "num_simulations", "episode_prior", "wanderer_counts"}
    assert all(getattr(agent.options, k) == getattr(shipped.options, k) for k in names)
    assert same(agent.networks.policy_value, shipped.networks.policy_value)
    assert [row.label.split(" ‡")[0] for row in ablations] == [first.label] * 2
