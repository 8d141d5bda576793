"""ui.lazy_session_state: a new gradio session builds no component config until one is read."""
from __future__ import annotations

import gradio as gr
from gradio import state_holder

from ui import lazy_session_state


def _demo() -> gr.Blocks:
    with gr.Blocks() as demo:
        name = gr.Textbox(value="a", label="name")
        out = gr.Number(value=1)
        gr.State(value={"k": 1})
        name.submit(lambda s: len(s), name, out)
    return demo


def test_sessions_are_lazy_and_give_the_configs_eager_ones_gave(monkeypatch):
    demo = _demo()
    eager = state_holder.SessionState(demo) if state_holder.SessionState.__init__ is not lazy_session_state._lazy_init \
        else None
    if eager is None:  # installed by an earlier import of app.py: build the eager one by hand
        eager = object.__new__(state_holder.SessionState)
        lazy_session_state._eager_init(eager, demo)
    assert lazy_session_state.install()
    calls = []
    original = type(demo.default_config).config_for_block

    def counted(*args, **kwargs):  # config_for_block is a staticmethod
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(type(demo.default_config), "config_for_block", staticmethod(counted))
    lazy = state_holder.SessionState(demo)
    assert calls == []  # nothing built for a session that only calls an API
    key = next(k for k, b in demo.blocks.items() if isinstance(b, gr.Textbox))
    lazy._update_value_in_config(key, "b")  # one component: only it is built
    assert calls == [key]
    assert lazy.config_values[key]["props"]["value"] == "b"
    eager._update_value_in_config(key, "b")
    assert list(map(str, lazy.components)) == list(map(str, eager.components))  # same order too
    assert len(lazy.config_values) == len(eager.config_values)


def test_install_refuses_a_session_state_it_does_not_recognise(monkeypatch):
    def other_init(self, blocks):
        self.blocks_config = blocks.default_config
        self.something_new = 1

    monkeypatch.setattr(state_holder.SessionState, "__init__", other_init)
    assert not lazy_session_state.install()
    assert state_holder.SessionState.__init__ is other_init
