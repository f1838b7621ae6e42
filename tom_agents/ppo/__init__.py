"""The model-free baseline: parameter-shared PPO (Stable-Baselines3), standing in for the paper's A3C."""

from .agent import PPOAgent, checkpoint_env_config
from .train import PPOConfig, train_ppo

__all__ = ["PPOAgent", "PPOConfig", "checkpoint_env_config", "train_ppo"]
