"""The user's own catalog: index it under base and base + adapter, search it side by side,
see which neighbourhoods the adapter moved, judge it without labels, take the model home.

No gradio here (tests/test_layering.py): these modules return arrays, frames and dataclasses;
`ui/catalog.py` shows them and `comparison/charts/catalog.py` draws them.
"""
