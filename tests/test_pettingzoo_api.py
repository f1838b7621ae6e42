"""PettingZoo's own test utilities, on every entry point and several configurations."""

import functools
import types

import pettingzoo
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)
from pettingzoo.utils.conversions import aec_to_parallel, parallel_to_aec

import staghunt_env
from staghunt_env import stag_hunt_v0
from staghunt_env._compat import HAS_REGISTRY
from staghunt_env.registration import ENV_ID


def test_api_wrapped_env(config):
    api_test(stag_hunt_v0.env(**config), num_cycles=200)


def test_api_raw_env(config):
    api_test(stag_hunt_v0.raw_env(**config), num_cycles=200)


def test_parallel_api(config):
    parallel_api_test(stag_hunt_v0.parallel_env(**config), num_cycles=200)


def test_registry_made_envs(config):
    if not HAS_REGISTRY:  # PettingZoo < 1.27 has no registry: registering is a no-op
        staghunt_env.register()
        assert not hasattr(pettingzoo, "parallel_registry")
        return
    parallel = pettingzoo.make("parallel", ENV_ID, **config)
    assert isinstance(parallel, staghunt_env.parallel.StagHuntParallelEnv)
    parallel_api_test(parallel, num_cycles=100)
    aec = pettingzoo.make("aec", ENV_ID, **config)
    assert isinstance(aec.unwrapped, staghunt_env.raw_env)
    api_test(aec, num_cycles=100)


def test_seed(config):
    seed_test(functools.partial(stag_hunt_v0.env, **config), num_cycles=200)
    parallel_seed_test(functools.partial(stag_hunt_v0.parallel_env, **config), num_cycles=200)


def _pre_seeded(factory, **config):
    """max_cycles_test resets without a seed and samples unseeded actions: seed both first, so
    that its random play is repeatable (an unlucky early catch can end the game before
    max_cycles)."""

    def make(**kwargs):
        env = factory(**config, **kwargs)
        env.reset(seed=0)
        for i, agent in enumerate(env.possible_agents):
            env.action_space(agent).seed(i)
        return env

    return make


def test_max_cycles(config):
    max_cycles_test(
        types.SimpleNamespace(
            parallel_env=_pre_seeded(stag_hunt_v0.parallel_env, **config),
            env=_pre_seeded(stag_hunt_v0.env, **config),
        )
    )


def test_render(config):
    render_test(functools.partial(stag_hunt_v0.env, **config))


def test_state(config):
    state_test(stag_hunt_v0.env(**config), stag_hunt_v0.parallel_env(**config), num_cycles=100)
    parallel = stag_hunt_v0.parallel_env(**config)
    parallel.reset(seed=0)
    assert parallel.state().shape == parallel.state_space.shape
    assert parallel.state_space.contains(parallel.state())


def test_conversion_round_trips(config):
    parallel_api_test(aec_to_parallel(stag_hunt_v0.env(**config)), num_cycles=100)
    api_test(parallel_to_aec(stag_hunt_v0.parallel_env(**config)), num_cycles=100)
