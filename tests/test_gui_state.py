"""The explorer's Qt-free state (gui/state): events, parameters by run, and the window's
parameter panel following it — a replayed session's changes appear as the run passes them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core import Parameters
from core.session import Session, save_session
from gui.state import ExplorerState
from tests.conftest import run_to_limit


def _setup(task: str = "deblur", **parameters: float) -> SimpleNamespace:
    return SimpleNamespace(settings={"task": task}, parameters=Parameters(**parameters))


def test_events_call_listeners_and_stop_after_disconnect_or_when_the_listener_is_gone():
    state, heard = ExplorerState(), []
    state.events.status.connect(heard.append)
    state.set_status("running")
    state.set_status("running")  # no change: not heard again
    state.events.status.disconnect(heard.append)
    state.set_status("paused")
    assert heard == ["running"]

    class View:  # a view's bound method is held weakly: a closed view stops listening
        seen: list = []

        def show(self, status: str) -> None:
            View.seen.append(status)

    view = View()
    state.events.status.connect(view.show)
    state.set_status("running")
    del view
    state.set_status("paused")
    assert View.seen == ["running"]


def test_the_solver_settings_are_heard_field_by_field_and_only_when_they_change():
    state, limits, runs = ExplorerState(), [], []
    state.solver.events.limit.connect(limits.append)
    state.solver.events.runs.connect(runs.append)
    state.solver.limit = 40
    state.solver.limit = 40
    assert limits == [40] and runs == []
    assert state.solver.labels == ["fima", "pg"]


def test_the_state_keeps_the_next_runs_start_apart_from_the_values_in_force():
    state = ExplorerState()
    shown: list[Parameters] = []
    state.events.parameters.connect(shown.append)
    state.set_problem(None, _setup(C=0.1, mu=1.0))
    assert state.initial == state.shown == Parameters(C=0.1, mu=1.0)
    timeline = state.begin_run()
    timeline.submit(C=0.2)  # nothing applied yet: follow() shows the pending edit on top
    timeline.at(0)
    timeline.at(1)
    state.follow(2)
    assert state.shown.C == 0.2
    state.edit(mu=2.0)  # a user edit during a run goes to the timeline and to the next start
    assert timeline.pending == {"mu": 2.0} and state.initial.mu == 2.0 and state.initial.C == 0.1
    state.end_run()
    assert state.timeline is None and state.shown == state.initial
    assert shown[-1] == state.initial
    with pytest.raises(ValueError):
        state.edit(C=-1.0)
    assert state.initial.C == 0.1


def test_a_new_task_brings_its_defaults_and_the_same_task_keeps_the_edits():
    state = ExplorerState()
    state.set_problem(None, _setup("deblur", C=0.1))
    state.edit(C=0.3)
    state.set_problem(None, _setup("deblur", C=0.1))  # e.g. another kernel
    assert state.initial.C == 0.3
    state.set_problem(None, _setup("denoise", C=0.05))
    assert state.initial.C == 0.05
    with pytest.raises(ValueError):
        state.set_status("flying")


def test_the_parameter_panel_follows_a_replayed_sessions_changes(qtbot, loaded, tmp_path):
    """Defect B3: after C = 0.05 at k = 3 the C box must show 0.05, the readout 2C = 0.1."""
    window = loaded
    initial = window.setup.parameters
    session = Session(
        task=dict(window.setup.settings),
        parameters=initial,
        changes={3: {"C": 0.05}},
        variants=("fima",),
        iterations=6,
    )
    path = tmp_path / "replay.toml"
    save_session(path, session)
    assert window.files.load_session_file(path)
    panel = window.parameter_panel
    assert panel.parameters().C == initial.C  # before the run: where it starts
    run_to_limit(qtbot, window, 6)
    assert panel.spin("C").value() == pytest.approx(0.05)
    assert panel.parameters().C == 0.05
    assert "2C = 0.1 " in panel.mu_condition.text()
    # Reset shows where the next run starts again, and the run replays the change again
    window.runner.reset_run()
    assert panel.parameters().C == initial.C
    rows = window.runner.history
    assert rows.count("fima") == 0


def test_a_learned_prior_with_its_own_weight_file_is_not_the_default():
    from gui.state.prior_choices import is_default_prior

    assert is_default_prior("deblur", {"name": "gs", "weight": 0.5})
    assert not is_default_prior("deblur", {"name": "gs", "weights": "/tmp/mine.pt"})


def test_an_edit_stays_shown_until_a_row_made_after_it_takes_it():
    """The user's value is never put back by an older record, even when changed twice within one
    iteration (the first value applied at a boundary the pulled rows have not reached yet)."""
    state = ExplorerState()
    state.set_problem(None, _setup(C=0.1, mu=1.0))
    timeline = state.begin_run()
    for k in range(3):  # the worker made rows 0-2
        timeline.at(k)
    state.follow(2)  # rows 0 and 1 pulled
    state.edit(mu=0.3)
    timeline.at(3)  # the worker applies μ = 0.3 at k = 3 …
    state.edit(mu=1.0)  # … and the user goes back to 1.0 before row 3 is pulled
    shown = [state.shown.mu]
    state.follow(3)  # row 2 (μ = 1.0, made before the edits) is pulled
    shown.append(state.shown.mu)
    timeline.at(4)  # μ = 1.0 applied at k = 4
    state.follow(4)  # row 3 (μ = 0.3) is pulled: the user's 1.0 stays
    shown.append(state.shown.mu)
    state.follow(5)  # row 4 took 1.0: the edit is done
    shown.append(state.shown.mu)
    assert shown == [1.0, 1.0, 1.0, 1.0] and state._edits[None] == {}
