"""How an overlay's list item (an input set, a template use's templateInputs) names the item of
the pipeline it fills: the identifier inside its `stage:` / `step:` / `stepGroup:` wrapper, the
first branch of a `parallel:`, else its own `identifier` or `name`."""

from __future__ import annotations

from typing import Any

WRAPPERS = ("stage", "step", "stepGroup")


def item_identity(item: Any) -> tuple[str, Any] | None:
    if isinstance(item, dict):
        for wrapper in WRAPPERS:
            inner = item.get(wrapper)
            if isinstance(inner, dict) and "identifier" in inner:
                return wrapper, inner["identifier"]
        if isinstance(item.get("parallel"), list) and item["parallel"]:
            return "parallel", item_identity(item["parallel"][0])
        for key in ("identifier", "name"):
            if key in item:
                return key, item[key]
    return None


def matching_index(base: list[Any], item: Any, position: int) -> int | None:
    """The index in base of the item `item` names; an unnamed item stands at its own position."""
    wanted = item_identity(item)
    if wanted is None:
        return position if position < len(base) else None
    return next((i for i, candidate in enumerate(base) if item_identity(candidate) == wanted), None)
