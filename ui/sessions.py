"""Forget gradio's per-session state of sessions that are gone, so a Space does not fill up.

Why: gradio keeps a `SessionState` per session hash — a copy of every component's config
(~0.4 MB for this app) plus the last value of every output the session received (an /embed
of 200 titles keeps ~5 MB of Python floats, a list heatmap its figure) — and removes one only
when 10,000 newer sessions exist. A closed browser tab is only marked closed, and API clients
(gradio_client, scripts, the classroom) never close at all. Measured with
``python -m tests.load.soak --fresh-every 1``: every new client session left ~0.4 MB and more
behind for good. Here, sessions whose last event is older than an hour are dropped: closed
tabs after gradio's own hour of grace, API sessions (no page open) after an hour without a
call; open pages are kept. The capacity is lowered to a bound that fits a 16 GB Space. An
API session that comes back later starts from the defaults, as after gradio's own eviction.
"""
from __future__ import annotations

import datetime as dt
import threading

import gradio as gr

CAPACITY = 1000  # sessions whose state is kept at most (gradio's default: 10,000)
CLOSED_TTL_S = 3600.0  # a closed tab may reopen within gradio's hour of grace
IDLE_TTL_S = 3600.0  # an API session (no page open) with no event for this long is gone

_open_pages: set[str] = set()  # sessions whose browser page is open (load seen, unload not)
_pages_lock = threading.Lock()


def _opened(request: gr.Request) -> None:
    with _pages_lock:
        _open_pages.add(str(request.session_hash))


def _closed(request: gr.Request) -> None:
    with _pages_lock:
        _open_pages.discard(str(request.session_hash))


def watch(demo: gr.Blocks) -> None:
    """Note which sessions are open browser pages (call inside ``with demo:``).

    An open page keeps its state however long it idles: its components' updated choices
    (the adapter list) live there, and a page that lost them would refuse its own dropdown.
    """
    demo.load(_opened, None, None, api_visibility="private", queue=False)
    demo.unload(_closed)


def forget_idle_sessions(demo: gr.Blocks, closed_ttl_s: float = CLOSED_TTL_S,
                         idle_ttl_s: float = IDLE_TTL_S, now: dt.datetime | None = None) -> int:
    """Drop the state of sessions idle past their TTL; returns how many were dropped."""
    holder = getattr(demo, "state_holder", None)
    if holder is None:  # not launched yet
        return 0
    now = now or dt.datetime.now()

    def expired(session: str) -> bool:
        if session in _open_pages:
            return False
        state, last = holder.session_data.get(session), holder.time_last_used.get(session)
        ttl = closed_ttl_s if state is not None and state.is_closed else idle_ttl_s
        return last is None or (now - last).total_seconds() >= ttl

    dropped = 0
    for session in [s for s in list(holder.session_data) if expired(s)]:
        holder.delete_state(session)  # gr.State values get their delete callbacks
        with holder.lock:
            if not expired(session):  # an event arrived meanwhile: keep it
                continue
            dropped += holder.session_data.pop(session, None) is not None
            holder.time_last_used.pop(session, None)
    with _pages_lock:  # pages gradio itself evicted (capacity) are no longer ours to keep
        _open_pages.intersection_update(holder.session_data)
    return dropped
