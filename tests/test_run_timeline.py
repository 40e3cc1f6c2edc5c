"""One run's parameters among several (A/B, issue 31): core.RunTimeline over a shared timeline, and
sessions that keep each run's own changes (``[[solver.runs]] changes``) and replay them."""

from __future__ import annotations

import pytest

from core import InputError, Parameters, ParameterTimeline, RunTimeline
from core.cli import main
from core.run_spec import RunSpec, variant_of
from core.session import Session, parse_session, session_text
from core.trace import read_trace_csv

AB = "fima · C=0.3"


def shared() -> ParameterTimeline:
    """A shared timeline from C = 0.1, μ = 1."""
    return ParameterTimeline(Parameters(C=0.1, mu=1.0))


def test_a_shared_change_reaches_every_run_at_the_same_k_and_an_own_change_one_run():
    base = shared()
    a, b = RunTimeline(base), RunTimeline(base, {"C": 0.3})
    assert (a.at(0).C, b.at(0).C) == (0.1, 0.3)
    base.submit(mu=2.0)  # between two boundaries: both runs take it at k = 1
    assert a.at(1).mu == b.at(1).mu == 2.0 and b.at(1).C == 0.3
    b.submit(C=0.4)
    assert b.pending == {"C": 0.4} and a.pending == {}
    assert (a.at(2).C, b.at(2).C) == (0.1, 0.4)
    assert b.own_changes == {2: {"C": 0.4}} and a.own_changes == {}
    assert b.changes == {1: {"mu": 2.0}, 2: {"C": 0.4}} and a.changes == {1: {"mu": 2.0}}
    assert b.in_force(1) == Parameters(C=0.3, mu=2.0) and b.in_force(5).C == 0.4
    # a later shared change of C overrides the run's start value (shared first, own after)
    base.submit(C=0.2)
    assert a.at(3).C == b.at(3).C == 0.2


def test_own_changes_come_after_shared_ones_at_the_same_k():
    base = ParameterTimeline(Parameters(), {4: {"C": 0.2, "mu": 2.0}})
    run = RunTimeline(base, {}, {4: {"C": 0.05}})
    assert run.at(4) == Parameters().with_changes(C=0.05, mu=2.0)
    assert run.changes == {4: {"C": 0.05, "mu": 2.0}}


def test_a_bad_value_is_refused_where_it_is_given():
    base = shared()
    run = RunTimeline(base, {"C": 0.3})
    with pytest.raises(ValueError):
        run.submit(C=-1.0)
    with pytest.raises(ValueError):
        RunTimeline(base, {}, {3: {"mu": 0.0}})
    assert run.pending == {}


def test_a_session_keeps_each_runs_own_changes():
    runs = [RunSpec("fima"), RunSpec("fima", {"C": 0.3})]
    session = Session(
        {"task": "deblur"}, Parameters(), {2: {"mu": 1.5}}, ["fima"], 6, runs=runs,
        run_changes={AB: {3: {"C": 0.2}}},
    )  # fmt: skip
    again = parse_session(session_text(session))
    assert again.run_changes == {AB: {3: {"C": 0.2}}} and again.changes == {2: {"mu": 1.5}}
    assert [variant_of(s.label) for s in again.run_specs()] == ["fima", "fima"]
    timeline = again.run_timeline(again.run_specs()[1])
    assert [timeline.at(k).C for k in range(5)] == [0.3, 0.3, 0.3, 0.2, 0.2]
    assert [timeline.at(k).mu for k in range(5)][1:3] == [Parameters().mu, 1.5]
    plain = again.run_timeline(again.run_specs()[0])
    assert {plain.at(k).C for k in range(5)} == {Parameters().C}
    # plain runs with changes of their own are kept as runs (not folded into the variants)
    own = Session({"task": "deblur"}, Parameters(), {}, ["fima", "pg"], 4,
                  run_changes={"pg": {1: {"gamma": 0.5}}})  # fmt: skip
    assert parse_session(session_text(own)).run_changes == {"pg": {1: {"gamma": 0.5}}}


def test_a_bad_own_change_in_a_session_file_is_one_clear_message():
    text = session_text(Session({"task": "deblur"}, Parameters(), {}, ["fima"], 4,
                                runs=[RunSpec("fima", {"C": 0.3})],
                                run_changes={AB: {2: {"C": 0.2}}}))  # fmt: skip
    broken = text.replace("{ k = 2, C = 0.2 }", "{ k = 2, C = -1.0 }")
    assert broken != text
    with pytest.raises(InputError, match="fima · C=0.3") as caught:
        parse_session(broken)
    assert "\n" not in str(caught.value)


def test_fima_run_replays_a_runs_own_changes(tmp_path):
    runs = [RunSpec("fima"), RunSpec("fima", {"C": 0.3})]
    session = Session({"task": "deblur", "module": "tv", "prior": {"name": "tv"}}, Parameters(), {},
                      ["fima"], 5, runs=runs, run_changes={AB: {2: {"C": 0.2}}})  # fmt: skip
    path = tmp_path / "ab.toml"
    path.write_text(session_text(session))
    out = tmp_path / "out"
    assert (
        main(["run", "--session", str(path), "--quiet", "--out", str(out), "--downscale", "4"]) == 0
    )
    rows = read_trace_csv(out / "trace.csv")
    assert [r["C"] for r in rows if r["label"] == AB] == [0.3, 0.3, 0.2, 0.2, 0.2]
    assert {r["C"] for r in rows if r["label"] == "fima"} == {Parameters().C}
