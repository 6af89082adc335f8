from course_lib.exercises import NotAttempted, close, require, run_check


def test_run_check_verdicts(capsys):
    def not_done():
        raise NotAttempted

    def wrong():
        require(1 + 1 == 3, "1 + 1 is not 3")

    def crashes():
        raise ZeroDivisionError("division by zero")

    verdicts = [run_check("Ex A", not_done), run_check("Ex B", wrong), run_check("Ex C", crashes),
                run_check("Ex D", lambda: None, success="well done")]
    assert [v.status for v in verdicts] == ["not attempted", "wrong", "wrong", "correct"]
    assert [bool(v) for v in verdicts] == [False, False, False, True]
    assert verdicts[1].message == "[wrong] Ex B: 1 + 1 is not 3"
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[not attempted] Ex A")
    assert out[1] == "[wrong] Ex B: 1 + 1 is not 3"
    assert out[2] == "[wrong] Ex C: your answer raised ZeroDivisionError: division by zero"
    assert out[3] == "[correct] Ex D: well done"


def test_not_implemented_counts_as_not_attempted(capsys):
    def student():
        raise NotImplementedError

    assert run_check("Ex E", student).status == "not attempted"
    assert "[not attempted]" in capsys.readouterr().out


def test_close():
    assert close(1.0, 1.00001) and not close(1.0, 1.1)
    assert close(0.0, 1e-7) and not close(0.0, 1e-3)


def test_a_verdict_displays_nothing_in_a_notebook():
    """IPython shows the last expression of a cell unless _ipython_display_ takes over: no True/False line."""
    from IPython.core.formatters import DisplayFormatter

    verdict = run_check("Ex F", lambda: None)
    data, _ = DisplayFormatter().format(verdict)
    assert data == {} and repr(verdict) == "Verdict('correct')"
