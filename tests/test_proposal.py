"""FIMA's proposal policy: skipped proposals are the rejection branch, never counted as accepted."""

import math

import pytest
import torch

from core.algorithm import iterate, run
from core.certificate import certificate
from core.modules.refine import ProximalRefinement
from core.params import ParameterTimeline
from core.proposal import ProposalPolicy, parse_policy

from .helpers import FunctionModule, Hostile, deblur_problem, good_module, params, random_module

REL = 1e-6


def assert_monotone(records):
    objectives = [r.objective for r in records]
    for k, (a, b) in enumerate(zip(objectives, objectives[1:], strict=False)):
        assert b <= a + REL * abs(a), f"Ψ rose at k={k + 1}: {a} -> {b}"


def proposing(records):
    return [r.k for r in records if not r.skipped]


def test_always_proposes_at_every_iteration():
    schedule = ProposalPolicy("always").schedule()
    for k in range(50):
        assert schedule.wants(k)
        schedule.record(k, accepted=False)


def test_adaptive_backs_off_after_patience_rejections_and_comes_back_on_an_accept():
    schedule = ProposalPolicy("adaptive", patience=2, max_gap=8).schedule()
    asked = []
    for k in range(60):
        if schedule.wants(k):
            asked.append(k)
            schedule.record(k, accepted=k == 23)
    # two straight rejections, then gaps 2, 4, 8 (the cap) … until the accept at 23
    assert asked[:6] == [0, 1, 3, 7, 15, 23]
    assert asked[6:9] == [24, 25, 27]  # back to every iteration, then backing off again
    gaps = [b - a for a, b in zip(asked, asked[1:], strict=False)]
    assert max(gaps) == 8


def test_a_reset_proposes_again_at_once():
    schedule = ProposalPolicy("adaptive", patience=1, max_gap=16).schedule()
    for k in range(4):
        if schedule.wants(k):
            schedule.record(k, accepted=False)
    assert not schedule.wants(4)
    schedule.reset(4)
    assert schedule.wants(4)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("always", ProposalPolicy("always")),
        ("adaptive", ProposalPolicy("adaptive")),
        ("adaptive:patience=3,max_gap=32", ProposalPolicy("adaptive", 3, 32)),
    ],
)
def test_policy_text_round_trips(text, expected):
    policy = parse_policy(text)
    assert policy == expected
    assert parse_policy(policy.describe()) == policy


@pytest.mark.parametrize(
    "text", ["sometimes", "adaptive:patience=0", "adaptive:gap=3", "adaptive:patience=x"]
)
def test_bad_policy_text_is_refused(text):
    with pytest.raises(ValueError, match="proposal policy"):
        parse_policy(text)


def test_a_skipped_proposal_is_never_counted_as_accepted(device):
    module = random_module()
    records = run(
        deblur_problem(device=device), module, params(), "fima", iterations=40, propose="adaptive"
    )
    skipped = [r for r in records if r.skipped]
    assert skipped, "a module that is always rejected must be skipped under the adaptive policy"
    for r in skipped:
        assert not r.accepted and r.reject_reason == "skipped"
        assert math.isnan(r.residual) and r.u is None and r.u_tilde is None
    assert module.calls == len(records) - len(skipped)  # the module is not called when skipped
    assert_monotone(records)


def test_with_a_module_that_is_always_rejected_fima_is_proximal_gradient_either_way(device):
    problem = deblur_problem(device=device)
    pg = run(problem, None, params(), "pg", iterations=25)
    for policy in ("always", "adaptive"):
        fima = run(problem, random_module(), params(), "fima", iterations=25, propose=policy)
        assert not any(r.accepted for r in fima)
        for a, b in zip(fima, pg, strict=True):
            assert torch.equal(a.x, b.x)  # the rejection branch and a skip are both a pg step


@pytest.mark.parametrize("behaviour", ["nan", "inf", "raise", "shape", "random"])
def test_hostile_modules_under_the_adaptive_policy_keep_psi_monotone(behaviour, device):
    module = Hostile(behaviour)
    records = run(
        deblur_problem(device=device), module, params(), "fima", iterations=30, propose="adaptive"
    )
    assert len(records) == 30
    assert_monotone(records)
    assert all(torch.isfinite(r.x).all() for r in records)
    assert not any(r.accepted for r in records)
    assert sum(r.skipped for r in records) >= 20  # 0, 1, 3, 7, 15: five proposals in 30


def test_while_proposals_are_accepted_adaptive_is_algorithm_1_itself(device):
    problem = deblur_problem(device=device)
    module = ProximalRefinement(good_module(), 10)  # refined TV: accepted at every iteration here
    always = run(problem, module, params(), "fima", iterations=30, propose="always")
    adaptive = run(problem, module, params(), "fima", iterations=30, propose="adaptive")
    assert all(r.accepted for r in always)
    assert [r.objective for r in adaptive] == [r.objective for r in always]
    assert not any(r.skipped for r in adaptive)


def test_a_live_change_brings_the_proposals_back(device):
    timeline = ParameterTimeline(params())
    gen = iterate(
        deblur_problem(device=device),
        random_module(),
        timeline,
        "fima",
        max_iter=20,
        propose="adaptive",
    )
    first = [next(gen) for _ in range(12)]
    assert first[-1].skipped  # k = 11: between the proposals at 7 and 15
    timeline.submit(C=0.3)  # applies at k = 12
    rest = list(gen)
    assert not rest[0].skipped and rest[0].C == 0.3


def test_the_certificate_counts_proposals_made_and_says_skips_keep_the_guarantee(device):
    records = run(
        deblur_problem(device=device),
        random_module(),
        params(),
        "fima",
        iterations=20,
        propose="adaptive",
    )
    rows = [r.row() for r in records]
    cert = certificate("fima", rows)
    assert cert.skipped == sum(r["skipped"] for r in rows) > 0
    assert cert.acceptance_rate == 0.0
    text = " ".join(cert.lines)
    assert f"skipped the module at {cert.skipped} iterations" in text
    assert "guarantee is the same" in text


def test_the_same_policy_replays_to_the_same_trace(device):
    problem = deblur_problem(device=device)
    module = FunctionModule(lambda x, k: x + 0.05 * torch.sin(x * (k + 1)), "wobble")
    a = run(problem, module, params(), "fima", iterations=30, propose="adaptive")
    b = run(problem, module, params(), "fima", iterations=30, propose="adaptive")
    assert proposing(a) == proposing(b)
    assert [r.objective for r in a] == [r.objective for r in b]


def test_a_session_with_the_policy_replays_to_the_same_trace(tmp_path, device):
    from core.cli import main
    from core.io import save_image
    from core.session import load_session
    from core.trace import read_trace_csv

    from .helpers import cartoon

    image = tmp_path / "img.png"
    save_image(image, cartoon(48))
    first, second = tmp_path / "a", tmp_path / "b"
    args = ["run", "--image", str(image), "--prior", "wavelet", "--module", "tv", "--iters", "14"]
    args += ["--device", device]
    assert main([*args, "--C", "0.001", "--propose", "adaptive", "--out", str(first)]) == 0
    assert load_session(first / "session.toml").propose == "adaptive"
    replay = ["run", "--session", str(first / "session.toml"), "--device", device]
    assert main([*replay, "--out", str(second)]) == 0
    a, b = read_trace_csv(first / "trace.csv"), read_trace_csv(second / "trace.csv")
    assert any(r["skipped"] for r in a)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(a) == strip(b)
    third = tmp_path / "c"  # --propose overrides the session's policy
    assert main([*replay, "--propose", "always", "--out", str(third)]) == 0
    assert not any(r["skipped"] for r in read_trace_csv(third / "trace.csv"))


def test_a_session_from_before_the_policy_replays_proposing_every_time():
    from core.session import parse_session

    text = 'format_version = 2\n[task]\ntask = "deblur"\n[parameters]\nC = 0.1\n'
    assert parse_session(text).propose == "always"
    with pytest.raises(Exception, match="proposal policy"):
        parse_session(text + '[solver]\npropose = "often"\n')


def test_a_bad_policy_on_the_command_line_is_one_line_and_exit_2(capsys):
    from core.cli import main

    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(["run", "--propose", "often", "--out", "x"]))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "proposal policy must be one of always, adaptive" in err[0]
