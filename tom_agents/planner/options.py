"""The planner's options: every hyperparameter of SPEC section 2, with the SPEC defaults."""

from __future__ import annotations

import dataclasses

from ..inference import InferenceSettings
from ..search import SearchSettings
from ..value_types import check_fields

OPPONENT_MODELS = ("learned", "scripted", "goal_free", "uniform")
GOAL_CONDITIONED_MODELS = ("learned", "scripted")  # the models whose goals beliefs weigh
NETWORKLESS_MODELS = ("scripted", "uniform")  # the models a trained net can switch to
ROOT_VALUES = ("q", "mean")  # what the decision ranks actions by (see PlannerOptions)
LEAF_VALUES = ("net", "rollout")  # how the search values a new leaf
WANDERER_MODELS = ("hare", "random")  # how the search plays a wanderer
NETWORK_OPTIONS = ("opponent_model", "channels", "hidden")  # the shape of the networks
# options fixed when the networks, opponent models and optimisers are built (followers share them)
SHARED_OPTIONS = (
    *NETWORK_OPTIONS,
    "lr",
    "opponent_lr",
    "scripted_epsilon",
    "inference_dtype",
)


@dataclasses.dataclass(frozen=True)
class PlannerOptions:
    """Every hyperparameter of SPEC section 2, with the SPEC defaults."""

    opponent_model: str = "learned"
    num_trees: int = SearchSettings.num_trees
    num_simulations: int = SearchSettings.num_simulations
    c_puct: float = SearchSettings.c_puct
    gamma: float = SearchSettings.gamma
    beta: float = 2.0
    greedy: bool = False  # argmax (ties broken at random) instead of sampling softmax(beta * value)
    # the decision's value of each root action: "q" SPEC's Q = W / (1 + N) averaged over the
    # trees; "mean" W / N pooled over the trees (unvisited actions never chosen)
    root_value: str = "q"
    # leaves valued by the policy-value net ("net", SPEC) or by goal-directed scripted
    # rollouts to the episode's end ("rollout", :mod:`~.rollouts`)
    leaf_value: str = "net"
    belief_discount: float = 0.995
    episode_prior: bool = True  # False: each episode starts uniform (paper: "without long-term")
    # pseudo-counts per goal added to the discounted goal counts when the prior is formed: 0 is
    # SPEC's (one realised goal makes the prior exactly 0 or 1, which no evidence can then move)
    prior_pseudocount: float = 0.0
    # goal counts (stag, hare) every co-player starts the match with, as if seen in earlier
    # episodes: a habit told in advance (an oracle for benchmarks, or what a user knows); SPEC
    # starts from none. Discounted by belief_discount like any count; with prior_pseudocount=0
    # a one-sided count fixes the prior at 0 or 1 for the match. Ignored with episode_prior=False
    initial_goal_counts: tuple[float, float] = (0.0, 0.0)
    # co-players that catch nothing add the episode's evidence (the posterior a uniform prior
    # would have reached) to the goal counts as fractions; SPEC (False) counts catches only
    soft_goal_counts: bool = False
    # P(a co-player wanders: takes any legal action alike) before the episode's evidence, beside
    # walking to the stag or a hare; a wanderer plans as a hare hunter, since it is no partner
    # for the stag. 0 is SPEC's (every co-player walks to a goal)
    wanderer_prior: float = 0.0
    # the wanderer prior learned instead, per co-player, from the episodes in which it caught
    # nothing and moved as a wanderer would (tom_agents.planner.kinds); 0 in the first episode,
    # so that one plays as without wanderers. Inert where no Bayes update runs
    # (bayes_update=False, a goal-free model)
    wanderer_counts: bool = False
    # how the search plays a co-player its tree samples as a wanderer: "hare" walks to a hare (no
    # partner for the stag), "random" takes random legal actions, as a wanderer is believed to
    # (then a tree samples it as such, beside the two goals). Inert without a wanderer prior
    wanderer_model: str = "hare"
    # with wanderer_counts, a co-player that caught something is judged by its moves before the
    # catch too (once MOVES_TO_JUDGE were seen): its P(wanderer) joins the wanderer counts and
    # only the rest counts as its goal, so a random mover that stumbles on a hare is no hare
    # hunter. False (as wanderer_counts began): a catch counts as a walk to its goal
    judge_catches: bool = False
    # how much an episode in which this agent never hunted the stag (never gave a co-player the
    # chance to join it there) teaches the goal and wanderer counts: 1 is SPEC's (every episode
    # alike); below 1, what co-players caught while it hunted hares counts that much less
    unoffered_weight: float = 1.0
    # with wanderer_counts, a co-player read as a wanderer plans as a stag walker with the
    # probability that it came to the stag in the episodes in which this agent hunted it, over
    # one more such episode that it joined with this probability (before any: this); 0 is
    # wanderer_counts' own (a wanderer is no partner for the stag). Inert where wanderer_counts is
    # (bayes_update=False, a goal-free model)
    wanderer_join: float = 0.0
    bayes_update: bool = True  # False: no intra-episode update (beliefs stay the prior)
    dirichlet_noise: bool = SearchSettings.dirichlet_noise
    dirichlet_epsilon: float = SearchSettings.dirichlet_epsilon
    dirichlet_alpha: float = SearchSettings.dirichlet_alpha
    tree_value: str = SearchSettings.tree_value  # "spec" or "mean" (tom_agents.search)
    lr: float = 5e-4
    opponent_lr: float = 5e-4
    opponent_buffer_size: int = 1000
    opponent_epochs: int = 15
    opponent_minibatch: int = 512
    learn_opponents: bool = True
    scripted_epsilon: float = 0.05
    channels: tuple[int, int, int] = (16, 32, 32)
    hidden: int = 512
    # how the search evaluates the networks: "float32", "bfloat16" or "auto" (bf16 where native)
    inference_dtype: str = "float32"

    def __post_init__(self) -> None:
        check_fields(self)  # integers are integers, floats finite, flags true or false
        if self.opponent_model not in OPPONENT_MODELS:
            raise ValueError(
                f"opponent_model must be one of {OPPONENT_MODELS}, got {self.opponent_model!r}"
            )
        for name, allowed in (
            ("root_value", ROOT_VALUES),
            ("leaf_value", LEAF_VALUES),
            ("wanderer_model", WANDERER_MODELS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0.0 <= self.belief_discount <= 1.0:
            raise ValueError(f"belief_discount must be in [0, 1], got {self.belief_discount}")
        if self.prior_pseudocount < 0:
            raise ValueError(f"prior_pseudocount must be >= 0, got {self.prior_pseudocount}")
        if min(self.initial_goal_counts) < 0:
            raise ValueError(f"initial_goal_counts must be >= 0, got {self.initial_goal_counts}")
        if not 0.0 <= self.wanderer_prior < 1.0:
            raise ValueError(f"wanderer_prior must be in [0, 1), got {self.wanderer_prior}")
        weighs_goals = self.opponent_model in GOAL_CONDITIONED_MODELS and self.bayes_update
        if self.wanderer_prior and not weighs_goals:
            raise ValueError(
                "wanderer_prior acts in the Bayes update over goals: it needs bayes_update=True "
                f"and a goal-conditioned opponent model (got {self.opponent_model!r}, "
                f"bayes_update={self.bayes_update})"
            )
        if self.wanderer_prior and self.wanderer_counts:
            raise ValueError(
                "wanderer_prior is fixed, wanderer_counts learns it: pass wanderer_counts=False "
                "to fix it (hop_plus learns it)"
            )
        if not 0.0 <= self.unoffered_weight <= 1.0:
            raise ValueError(f"unoffered_weight must be in [0, 1], got {self.unoffered_weight}")
        if not 0.0 <= self.wanderer_join <= 1.0:
            raise ValueError(f"wanderer_join must be in [0, 1], got {self.wanderer_join}")
        if self.wanderer_join and not (self.wanderer_counts and self.wanderer_model == "hare"):
            raise ValueError(
                "wanderer_join plans the learned wanderers as stag walkers at a rate: it needs "
                "wanderer_counts=True and wanderer_model='hare' (with 'random' the trees sample "
                "wanderers as random movers, which no join rate reaches); got wanderer_counts="
                f"{self.wanderer_counts}, wanderer_model={self.wanderer_model!r}"
            )
        if self.judge_catches and not self.wanderer_counts:
            raise ValueError("judge_catches judges catches for the wanderer counts: it needs "
                             "wanderer_counts=True")  # fmt: skip
        if self.beta < 0:
            raise ValueError(f"beta must be >= 0, got {self.beta}")
        _ = self.inference  # validates the dtype
        _ = self.search  # validates the search settings now, not at the first decision

    @property
    def search(self) -> SearchSettings:
        """The search part of these options (the fields both share by name)."""
        names = [f.name for f in dataclasses.fields(SearchSettings)]
        return SearchSettings(**{name: getattr(self, name) for name in names})

    @property
    def inference(self) -> InferenceSettings:
        """How the search evaluates the networks (:mod:`tom_agents.inference`)."""
        return InferenceSettings(self.inference_dtype)

    @classmethod
    def from_dict(cls, values: dict) -> PlannerOptions:
        """Options from plain data (a checkpoint's or a TOML file's): lists become tuples."""
        check_option_names(values)
        return cls(**values)


def check_option_names(options: dict, context: str = "") -> None:
    """A ValueError naming the keys that are not planner options."""
    unknown = sorted(set(options) - {f.name for f in dataclasses.fields(PlannerOptions)})
    if unknown:
        raise ValueError(f"unknown planner option(s) {unknown} {context}".rstrip())


def check_shared_options(
    have: PlannerOptions, want: PlannerOptions, source: str = "", network_only: bool = False
) -> None:
    """Options that shape the shared networks must agree (ValueError naming those that differ)."""
    names = NETWORK_OPTIONS if network_only else SHARED_OPTIONS
    differ = [k for k in names if getattr(have, k) != getattr(want, k)]
    if differ:
        detail = ", ".join(f"{k}={getattr(have, k)!r} vs {getattr(want, k)!r}" for k in differ)
        where = f"{source} has" if source else "options"
        raise ValueError(f"{where} {detail}: these belong to the shared networks and must agree")
