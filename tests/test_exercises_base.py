from course_lib.exercises import NotAttempted, close, require, run_check


def test_run_check_verdicts(capsys):
    def not_done():
        raise NotAttempted

    def wrong():
        require(1 + 1 == 3, "1 + 1 is not 3")

    def crashes():
        raise ZeroDivisionError("division by zero")

    assert run_check("Ex A", not_done) is False
    assert run_check("Ex B", wrong) is False
    assert run_check("Ex C", crashes) is False
    assert run_check("Ex D", lambda: None, success="well done") is True
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[not attempted] Ex A")
    assert out[1] == "[wrong] Ex B: 1 + 1 is not 3"
    assert out[2] == "[wrong] Ex C: your answer raised ZeroDivisionError: division by zero"
    assert out[3] == "[correct] Ex D: well done"


def test_not_implemented_counts_as_not_attempted(capsys):
    def student():
        raise NotImplementedError

    assert run_check("Ex E", student) is False
    assert "[not attempted]" in capsys.readouterr().out


def test_close():
    assert close(1.0, 1.00001) and not close(1.0, 1.1)
    assert close(0.0, 1e-7) and not close(0.0, 1e-3)
