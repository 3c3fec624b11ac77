"""Provides translation of key-binding descriptions, which are declared before the language is set.

Bindings are declared on classes with `N_`-marked English descriptions; each screen calls
`translate_bindings(self)` in its constructor so the footer and help speak the engineer's language.
"""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from sdconsole.i18n import _


def translate_bindings(node: DOMNode) -> None:
    """Replace the node's binding descriptions and tooltips with their translations."""
    # DOMNode keeps a per-instance copy of the merged class bindings in `_bindings`;
    # Textual has no public API to relabel them, so the copy is rewritten in place.
    mapping = node._bindings.key_to_bindings
    for key, bindings in mapping.items():
        mapping[key] = [
            replace(
                b,
                description=_(b.description) if b.description else b.description,
                tooltip=_(b.tooltip) if b.tooltip else b.tooltip,
            )
            for b in bindings
        ]
