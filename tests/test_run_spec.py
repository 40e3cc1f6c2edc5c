"""Two settings side by side (A/B): run specs ``VARIANT[:key=value,...]``, their labels, the CLI
run that writes both into one trace, their session and its replay, and a hostile module under A/B."""

import pytest
import torch

from core.cli import main
from core.io import save_image
from core.run_spec import RunSpec, parse_run_spec, parse_run_specs
from core.session import Session, load_session, parse_session, session_text
from core.trace import read_trace_csv

from .helpers import cartoon, params


@pytest.fixture()
def image(tmp_path):
    path = tmp_path / "img.png"
    save_image(path, cartoon(32))
    return path


def test_a_run_spec_parses_into_variant_overrides_and_label():
    spec = parse_run_spec("fima:mu=0.5, C=0.2")
    assert spec == RunSpec("fima", {"C": 0.2, "mu": 0.5})
    assert spec.label == "fima · C=0.2, mu=0.5"
    assert spec.file_label == "fima_C=0.2_mu=0.5"
    assert parse_run_spec(spec.text) == spec
    plain = parse_run_spec("pg")
    assert plain.label == plain.file_label == "pg" and not plain.overrides
    assert parse_run_spec("fima:C=0.123456789").label == "fima · C=0.123456789"  # not rounded


def test_several_run_specs_split_at_the_right_commas():
    specs = parse_run_specs("fima,fima:C=0.3,mu=0.9,pg:gamma=0.5,naive")
    assert [s.label for s in specs] == [
        "fima",
        "fima · C=0.3, mu=0.9",
        "pg · gamma=0.5",
        "naive",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fima:x=1", "unknown parameter 'x'"),
        ("fima:C=abc", "is not a number"),
        ("fimo:C=0.3", "unknown variant 'fimo'"),
        ("fima:C", "expected key=value"),
        ("fima:C=inf", "finite"),
        ("fima:C=-1", "must be positive"),
        ("fima:C=1,C=2", "sets C twice"),
        ("fima,fima", "same label 'fima'"),
        ("fima:C=0.3,fima:C=0.30", "same label"),
        ("fima,", "expected VARIANT"),
    ],
)
def test_bad_run_specs_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_run_specs(text)


def test_bad_run_spec_on_the_command_line_is_one_line_and_status_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--variant", "fima,fima:Q=1", "--out", str(tmp_path / "o")])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "unknown parameter 'Q'" in err and "\n" not in err and "Traceback" not in err


def test_a_session_keeps_each_runs_variant_label_and_overrides():
    runs = [RunSpec("fima"), RunSpec("fima", {"C": 0.3})]
    session = Session({"task": "deblur"}, params(), {}, ["fima"], 4, runs=runs)
    text = session_text(session)
    assert 'label = "fima · C=0.3"' in text
    back = parse_session(text)
    assert back.run_specs() == runs and back.variants == ["fima"]
    old = Session({"task": "deblur"}, params(), {}, ["fima", "pg"], 4)  # no runs: each variant once
    assert [s.label for s in parse_session(session_text(old)).run_specs()] == ["fima", "pg"]


def test_a_session_with_bad_runs_is_refused():
    text = session_text(Session({"task": "deblur"}, params(), {}, ["fima"], 4))
    bad = text.replace("overrides = {}", "overrides = 3")
    with pytest.raises(Exception, match="overrides must be a table"):
        parse_session(bad)
    twice = Session({"task": "deblur"}, params(), {}, ["fima"], 4, runs=[RunSpec("fima")] * 2)
    with pytest.raises(Exception, match="same label"):
        parse_session(session_text(twice))


def _ab_run(image, out, *extra):
    args = ["run", "--image", str(image), "--module", "tv", "--iters", "5", "--quiet"]
    return main([*args, "--variant", "fima,fima:C=0.3,pg", *extra, "--out", str(out)])


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_an_ab_run_writes_both_labels_into_one_trace_and_replays(tmp_path, image):
    first, second = tmp_path / "a", tmp_path / "b"
    assert _ab_run(image, first, "--C", "0.1") == 0
    rows = read_trace_csv(first / "trace.csv")
    labels = [r["label"] for r in rows]
    assert labels == ["fima"] * 5 + ["fima · C=0.3"] * 5 + ["pg"] * 5
    assert {r["variant"] for r in rows[:10]} == {"fima"}
    assert {r["C"] for r in rows if r["label"] == "fima"} == {0.1}  # --C for every run …
    assert {r["C"] for r in rows if r["label"] == "fima · C=0.3"} == {0.3}  # … its own wins
    for name in ("result.png", "result_fima.npy", "result_fima_C=0.3.npy", "result_pg.png"):
        assert (first / name).is_file(), name
    session = load_session(first / "session.toml")
    assert [s.label for s in session.run_specs()] == ["fima", "fima · C=0.3", "pg"]
    assert main(["run", "--session", str(first / "session.toml"), "--quiet",
                 "--out", str(second)]) == 0  # fmt: skip
    assert _strip(read_trace_csv(second / "trace.csv")) == _strip(rows)


class _Garbage(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 10.0 * torch.sin(37.0 * x) + 5.0


def test_a_hostile_module_under_ab_leaves_both_fima_runs_monotone(tmp_path, image):
    module = tmp_path / "garbage.pt"
    torch.jit.save(torch.jit.script(_Garbage()), str(module))
    out = tmp_path / "out"
    args = ["run", "--image", str(image), "--module", str(module), "--iters", "8", "--quiet"]
    variants = "fima,fima:C=0.3,fima:C=0.08,mu=0.001"  # the last outside 2C < μ
    assert main([*args, "--variant", variants, "--out", str(out)]) == 0
    rows = read_trace_csv(out / "trace.csv")
    for label in ("fima", "fima · C=0.3", "fima · C=0.08, mu=0.001"):
        psi = [r["objective"] for r in rows if r["label"] == label]
        assert len(psi) == 8, label
        assert all(b <= a * (1 + 1e-6) for a, b in zip(psi, psi[1:], strict=False)), label


def test_a_study_takes_run_specs_as_variants_keyed_by_label(tmp_path):
    import sqlite3

    from core.io import InputError
    from core.study.replay import cell_session
    from core.study.spec import parse_spec

    from .test_study_run import write_spec

    spec = write_spec(tmp_path, "mu = [1.0]", iterations=3, images=1,
                      variants=("fima", "fima:C=0.3"), fixed='module = "tv"\nC = 0.1')  # fmt: skip
    out = tmp_path / "out"
    assert main(["study", "run", str(spec), "--out", str(out), "--serial", "--quiet"]) == 0
    con = sqlite3.connect(str(out / "study.db"))
    try:
        found = set(
            con.execute(
                "SELECT c.variant, i.variant, i.label, i.C FROM cells c JOIN iterations i "
                "ON i.cell_id = c.id"
            )
        )
    finally:
        con.close()
    assert found == {("fima", "fima", "fima", 0.1), ("fima · C=0.3", "fima", "fima · C=0.3", 0.3)}
    replay = cell_session(out, 2)
    assert [s.label for s in replay.run_specs()] == ["fima · C=0.3"]
    assert replay.run_specs()[0].parameters(replay.parameters).C == 0.3
    with pytest.raises(InputError, match="sets mu, a \\[grid\\] axis"):
        parse_spec(spec.read_text().replace('"fima:C=0.3"', '"fima:mu=0.5"'), tmp_path, False)
