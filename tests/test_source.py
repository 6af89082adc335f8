import pytest

from course_lib import fit, get_source, show_source
from course_lib.training import History


def test_get_source_returns_the_real_code():
    text = get_source(fit)
    assert text.startswith("def fit(") and "loss.backward()" in text
    assert "class History" in get_source(History)


def test_show_source_prints_outside_a_notebook(capsys):
    assert show_source(fit) is None
    assert "def fit(" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [3, "fit", None])
def test_show_source_rejects_non_code(bad):
    with pytest.raises(TypeError, match="needs a function, class, method or module"):
        get_source(bad)
