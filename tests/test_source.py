import inspect

import pytest

from course_lib import fit, get_source, show_source
from course_lib.training import History


def test_get_source_returns_the_real_code():
    text = get_source(fit)
    assert text.startswith("def fit(") and text == inspect.getsource(fit)
    assert "class History" in get_source(History)
    assert get_source(History.append).lstrip().startswith("def append(")


def test_show_source_prints_outside_a_notebook(capsys):
    assert show_source(fit) is None
    assert "def fit(" in capsys.readouterr().out


@pytest.mark.parametrize("bad, message", [
    (3, "obj must be a function, class, method or module, got int 3$"),
    (None, "obj must be a function, class, method or module, got NoneType None$"),
    ("fit", r"got str 'fit'; pass the object itself, not its name \(show_source\(fit\), not show_source\('fit'\)\)"),
    (History(), r"got History .*; for an instance, pass its class: show_source\(type\(obj\)\) shows History"),
])
def test_show_source_rejects_non_code(bad, message):
    with pytest.raises(TypeError, match=message):
        get_source(bad)
    with pytest.raises(TypeError, match=message):
        show_source(bad)


def test_code_without_python_source_is_a_value_error():
    with pytest.raises(ValueError, match="no source is available for <class 'dict'>: .* is a built-in class"):
        get_source(dict)
